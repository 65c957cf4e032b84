/** The zoomed step range of each metric chart, kept in the URL as `zoom.<metric>=lo..hi`. */

export function zoomParamName(metricKey: string): string {
  return `zoom.${metricKey}`;
}

export function parseZoom(raw: string | null): [number, number] | null {
  if (!raw) return null;
  const m = /^(-?\d+)\.\.(-?\d+)$/.exec(raw);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  return Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && hi > lo ? [lo, hi] : null;
}

export function formatZoom(range: [number, number] | null): string | null {
  return range ? `${range[0]}..${range[1]}` : null;
}
