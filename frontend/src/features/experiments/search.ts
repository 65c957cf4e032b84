/** Experiment search: every word must appear in the name or the description (case-insensitive). */

export function matchesSearch(e: { name: string; description?: string | null }, search: string): boolean {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const text = `${e.name} ${e.description ?? ''}`.toLowerCase();
  return words.every((w) => text.includes(w));
}
