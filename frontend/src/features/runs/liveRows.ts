/**
 * Live patches on the runs table's rows: `runChanged` brings a run's status, end time and name;
 * `metricsLogged` brings points from which a run's latest value (highest step), min and max
 * follow. A patch is kept apart from the fetched row and applied on top of it, so a page loaded
 * later (scrolling) still shows what arrived live, and applying the same event twice is harmless.
 */
import { metricValueToNumber, type WireMetricValue } from '../../graphql/metricValues';
import type { LatestMetricCell, RunRow } from './runRows';

export interface RunPatch {
  status?: string;
  endTime?: number | null;
  name?: string | null;
  metrics?: Map<string, LatestMetricCell>;
}

export function patchFromRunChange(previous: RunPatch | undefined, run: { status: string; endTime?: number | null; name?: string | null }): RunPatch {
  return { ...previous, status: run.status, endTime: run.endTime ?? null, ...(run.name !== undefined ? { name: run.name } : {}) };
}

function lessThan(a: WireMetricValue, b: WireMetricValue): boolean {
  return metricValueToNumber(a) < metricValueToNumber(b);
}

function mergeCell(base: LatestMetricCell | undefined, step: number, value: WireMetricValue): LatestMetricCell {
  if (!base) return { value, step, min: value, max: value };
  const finite = Number.isFinite(metricValueToNumber(value));
  return {
    // Ties go to the newer point, as the server's latest-metric summary does.
    value: step >= base.step ? value : base.value,
    step: Math.max(step, base.step),
    min: finite && (base.min === null || lessThan(value, base.min)) ? value : base.min,
    max: finite && (base.max === null || lessThan(base.max, value)) ? value : base.max,
  };
}

/** Folds a `metricsLogged` event into a run's patch, against the fetched row's cells. */
export function patchFromMetrics(
  previous: RunPatch | undefined,
  base: RunRow | undefined,
  event: { keys: readonly string[]; steps: readonly number[]; values: readonly WireMetricValue[] },
): RunPatch {
  const metrics = new Map(previous?.metrics ?? []);
  const n = Math.min(event.keys.length, event.steps.length, event.values.length);
  for (let i = 0; i < n; i++) {
    const key = event.keys[i] as string;
    const current = metrics.get(key) ?? base?.metrics.get(key);
    metrics.set(key, mergeCell(current, event.steps[i] as number, event.values[i] as WireMetricValue));
  }
  return { ...previous, metrics };
}

/** The row as shown: the fetched row with the live patch on top (the same object when unpatched). */
export function applyPatch(row: RunRow, patch: RunPatch | undefined): RunRow {
  if (!patch) return row;
  const next: RunRow = { ...row };
  if (patch.status !== undefined) next.status = patch.status;
  if (patch.endTime !== undefined) {
    next.endTime = patch.endTime;
    next.duration = patch.endTime !== null ? patch.endTime - row.startTime : null;
  }
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.metrics) {
    const metrics = new Map(row.metrics);
    for (const [key, cell] of patch.metrics) {
      const fetched = row.metrics.get(key);
      // A page fetched after the patch may already be ahead of it.
      metrics.set(key, fetched && fetched.step > cell.step ? fetched : cell);
    }
    next.metrics = metrics;
  }
  return next;
}
