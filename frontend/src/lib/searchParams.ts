/**
 * Small codecs for view state kept in the URL: comma lists and integers, with defaults left
 * out of the URL so shared links stay short and canonical.
 */

export function readList(params: URLSearchParams, name: string): string[] {
  const raw = params.get(name);
  if (!raw) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function writeList(params: URLSearchParams, name: string, values: readonly string[]): void {
  if (values.length === 0) params.delete(name);
  else params.set(name, values.join(','));
}

export function readPositiveInt(params: URLSearchParams, name: string, fallback: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function writeString(params: URLSearchParams, name: string, value: string, fallback = ''): void {
  if (value === fallback) params.delete(name);
  else params.set(name, value);
}
