/**
 * Shapes columnar metric series (steps[], values[] exactly as MetricSeries delivers them) into
 * uPlot's aligned data: one shared, ascending x array and one y array per series, with null
 * where a series has no point (or a NaN) at that x.
 */
import { metricValueToPlot, type WireMetricValue } from '../../graphql/metricValues';

export interface ColumnarSeries {
  label: string;
  steps: readonly number[];
  values: readonly WireMetricValue[];
}

export interface ChartData {
  x: number[];
  /** null: a gap in the line (NaN); undefined: no point at this x (the line joins across). */
  ys: Array<Array<number | null | undefined>>;
  labels: string[];
  /** Points that cannot be drawn (NaN, ±Infinity), per series — shown beside the chart. */
  nonFinite: number[];
}

function plotValue(v: WireMetricValue): { y: number | null; finite: boolean } {
  const n = metricValueToPlot(v);
  if (n === null) return { y: null, finite: false };
  // uPlot's auto-range cannot contain an infinity; the point is reported instead of drawn.
  if (!Number.isFinite(n)) return { y: null, finite: false };
  return { y: n, finite: true };
}

function isAscending(xs: readonly number[]): boolean {
  for (let i = 1; i < xs.length; i++) if ((xs[i] as number) < (xs[i - 1] as number)) return false;
  return true;
}

/** Sorts one series by step when the server did not (stable, keeps the last value per step). */
function sortedByStep(s: ColumnarSeries): { steps: number[]; values: WireMetricValue[] } {
  const n = Math.min(s.steps.length, s.values.length);
  if (isAscending(s.steps) && n === s.steps.length && n === s.values.length) {
    return { steps: s.steps as number[], values: s.values as WireMetricValue[] };
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (s.steps[a] as number) - (s.steps[b] as number));
  return { steps: order.map((i) => s.steps[i] as number), values: order.map((i) => s.values[i] as WireMetricValue) };
}

export function toChartData(series: readonly ColumnarSeries[]): ChartData {
  const sorted = series.map(sortedByStep);
  const labels = series.map((s) => s.label);
  if (sorted.length === 1) {
    // The common case (one run's metric): no join needed, one pass.
    const only = sorted[0] as { steps: number[]; values: WireMetricValue[] };
    const ys: Array<number | null> = new Array(only.values.length);
    let bad = 0;
    for (let i = 0; i < only.values.length; i++) {
      const p = plotValue(only.values[i] as WireMetricValue);
      ys[i] = p.y;
      if (!p.finite) bad += 1;
    }
    return { x: only.steps.slice(), ys: [ys], labels, nonFinite: [bad] };
  }
  const xs = Array.from(new Set(sorted.flatMap((s) => s.steps))).sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const nonFinite: number[] = [];
  const ys = sorted.map((s) => {
    const col: Array<number | null> = new Array(xs.length).fill(null);
    let bad = 0;
    for (let i = 0; i < s.steps.length; i++) {
      const p = plotValue(s.values[i] as WireMetricValue);
      col[index.get(s.steps[i] as number) as number] = p.y;
      if (!p.finite) bad += 1;
    }
    nonFinite.push(bad);
    return col;
  });
  return { x: xs, ys, labels, nonFinite };
}

/** How many points to ask the server for: about two per horizontal pixel, within bounds. */
export function pointsForWidth(widthPx: number): number {
  return Math.max(200, Math.min(4000, Math.round(widthPx * 2)));
}

/** Normalises a dragged x-range to integer steps (the server filters by minStep/maxStep). */
export function stepRange(a: number, b: number): [number, number] | null {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
  const lo = Math.floor(Math.min(a, b));
  const hi = Math.ceil(Math.max(a, b));
  return hi > lo ? [lo, hi] : null;
}
