/**
 * Metric series that grow while a run logs: the columns `metricHistories` returned, extended in
 * place by `metricsLogged` events. Appending is a push onto the same arrays (the chart is not
 * rebuilt), and a point is only appended when its step is past the last one held, so the
 * catch-up fetch after a reconnect and the live stream may overlap without doubling a point.
 */
import { metricValueToPlot, type WireMetricValue } from './metricValues';

export interface LiveSeries {
  runId: string;
  key: string;
  steps: number[];
  timestamps: number[];
  values: WireMetricValue[];
  /** values as the chart draws them: null for NaN and ±Infinity (counted in nonFinite). */
  y: Array<number | null>;
  nonFinite: number;
  downsampled: boolean;
  /** Points the server holds in the range (grows with live points). */
  totalPoints: number;
  /** Points appended since the fetch (live or backfill). */
  appended: number;
}

export interface ColumnarPoints {
  steps: readonly number[];
  timestamps: readonly number[];
  values: readonly WireMetricValue[];
}

export function seriesId(runId: string, key: string): string {
  return `${runId}\u0000${key}`;
}

function plot(v: WireMetricValue): number | null {
  const n = metricValueToPlot(v);
  return n === null || !Number.isFinite(n) ? null : n;
}

export function newLiveSeries(runId: string, key: string, fetched: ColumnarPoints & { downsampled?: boolean; totalPoints?: number }): LiveSeries {
  const n = Math.min(fetched.steps.length, fetched.timestamps.length, fetched.values.length);
  const s: LiveSeries = {
    runId,
    key,
    steps: [],
    timestamps: [],
    values: [],
    y: [],
    nonFinite: 0,
    downsampled: fetched.downsampled ?? false,
    totalPoints: fetched.totalPoints ?? n,
    appended: 0,
  };
  // The server returns a history sorted by step; sort anyway so appending can trust the last step.
  const order = Array.from({ length: n }, (_, i) => i);
  let sorted = true;
  for (let i = 1; i < n; i++) if ((fetched.steps[i] as number) < (fetched.steps[i - 1] as number)) sorted = false;
  if (!sorted) order.sort((a, b) => (fetched.steps[a] as number) - (fetched.steps[b] as number));
  for (const i of order) {
    const v = fetched.values[i] as WireMetricValue;
    s.steps.push(fetched.steps[i] as number);
    s.timestamps.push(fetched.timestamps[i] as number);
    s.values.push(v);
    const y = plot(v);
    s.y.push(y);
    if (y === null) s.nonFinite += 1;
  }
  return s;
}

export function lastStep(s: LiveSeries): number | null {
  return s.steps.length > 0 ? (s.steps[s.steps.length - 1] as number) : null;
}

/** Appends one point when it is past the last step; returns whether it was appended. */
export function appendPoint(s: LiveSeries, step: number, timestamp: number, value: WireMetricValue): boolean {
  const last = lastStep(s);
  if (last !== null && step <= last) return false;
  s.steps.push(step);
  s.timestamps.push(timestamp);
  s.values.push(value);
  const y = plot(value);
  s.y.push(y);
  if (y === null) s.nonFinite += 1;
  s.totalPoints += 1;
  s.appended += 1;
  return true;
}

export interface MetricBatch extends ColumnarPoints {
  runId: string;
  keys: readonly string[];
}

/**
 * Appends a `metricsLogged` event to the series it concerns. `accept` decides whether a series
 * not held yet (a new metric, a new run) is started; `maxStep` (a zoomed chart) drops points
 * beyond the visible range. Returns the ids of the series that grew.
 */
export function appendBatch(
  store: Map<string, LiveSeries>,
  event: MetricBatch,
  options: { accept?: (runId: string, key: string) => boolean; maxStep?: number | null } = {},
): Set<string> {
  const grown = new Set<string>();
  const n = Math.min(event.keys.length, event.steps.length, event.timestamps.length, event.values.length);
  for (let i = 0; i < n; i++) {
    const key = event.keys[i] as string;
    const step = event.steps[i] as number;
    if (options.maxStep != null && step > options.maxStep) continue;
    const id = seriesId(event.runId, key);
    let s = store.get(id);
    if (!s) {
      if (!options.accept?.(event.runId, key)) continue;
      s = newLiveSeries(event.runId, key, { steps: [], timestamps: [], values: [] });
      store.set(id, s);
    }
    if (appendPoint(s, step, event.timestamps[i] as number, event.values[i] as WireMetricValue)) grown.add(id);
  }
  return grown;
}

/** Appends what a catch-up fetch brought that is past each series' last step. */
export function mergeBackfill(s: LiveSeries, fetched: ColumnarPoints): number {
  let added = 0;
  const n = Math.min(fetched.steps.length, fetched.timestamps.length, fetched.values.length);
  for (let i = 0; i < n; i++) {
    if (appendPoint(s, fetched.steps[i] as number, fetched.timestamps[i] as number, fetched.values[i] as WireMetricValue)) added += 1;
  }
  return added;
}

/** Where a catch-up fetch starts: just past the earliest "last step" among the series. */
export function backfillFrom(series: Iterable<LiveSeries>): number | null {
  let from: number | null = null;
  for (const s of series) {
    const last = lastStep(s);
    const next = last === null ? 0 : last + 1;
    from = from === null ? next : Math.min(from, next);
  }
  return from;
}
