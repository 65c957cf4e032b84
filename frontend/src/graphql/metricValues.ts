/**
 * The MetricValue scalar keeps NaN and ±Infinity exact on the wire as strings. Charts want
 * numbers: NaN becomes a gap (null), the infinities stay infinite; tables want text.
 */

export type WireMetricValue = number | string;

export function metricValueToNumber(v: WireMetricValue): number {
  if (typeof v === 'number') return v;
  switch (v) {
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    case 'NaN':
      return NaN;
    default: {
      const n = Number(v);
      return Number.isNaN(n) ? NaN : n;
    }
  }
}

/** For plotting: a gap for NaN (uPlot draws null as a break in the line). */
export function metricValueToPlot(v: WireMetricValue): number | null {
  const n = metricValueToNumber(v);
  return Number.isNaN(n) ? null : n;
}

export function formatMetricValue(v: WireMetricValue | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}
