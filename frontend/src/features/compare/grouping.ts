/**
 * Grouping runs by a param or tag (e.g. every seed of one config) and the per-x statistics of
 * a group: mean, min, max and standard deviation across its members. Members rarely share x
 * values (each run's downsampled buckets keep different steps), so every member is linearly
 * interpolated at the union of the group's x values, within its own range only.
 */
import { interpolateAt, type XYSeries } from '../../components/charts/xAxis';

export interface GroupStats {
  x: number[];
  mean: Array<number | null>;
  min: Array<number | null>;
  max: Array<number | null>;
  std: Array<number | null>;
  /** Members contributing at each x. */
  count: number[];
}

export const NO_VALUE = '(none)';

/** Group keys in first-seen order, each with its members' ids. Runs without the key form "(none)". */
export function groupRuns<T extends { id: string }>(runs: readonly T[], valueOf: (run: T) => string | null | undefined): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const run of runs) {
    const v = valueOf(run);
    const key = v === null || v === undefined || v === '' ? NO_VALUE : v;
    const list = groups.get(key);
    if (list) list.push(run.id);
    else groups.set(key, [run.id]);
  }
  return groups;
}

export function groupStats(members: readonly XYSeries[]): GroupStats {
  const all: number[] = [];
  for (const m of members) for (const v of m.x) all.push(v);
  const sorted = Float64Array.from(all).sort();
  const x: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) x.push(sorted[i] as number);
  const out: GroupStats = { x, mean: [], min: [], max: [], std: [], count: [] };
  const hints = members.map(() => 0);
  for (const xv of x) {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    let lo = Infinity;
    let hi = -Infinity;
    members.forEach((m, k) => {
      const { value, index } = interpolateAt(m, xv, hints[k]);
      hints[k] = index;
      if (value === null || !Number.isFinite(value)) return;
      n += 1;
      sum += value;
      sumSq += value * value;
      if (value < lo) lo = value;
      if (value > hi) hi = value;
    });
    out.count.push(n);
    if (n === 0) {
      out.mean.push(null);
      out.min.push(null);
      out.max.push(null);
      out.std.push(null);
      continue;
    }
    const mean = sum / n;
    out.mean.push(mean);
    out.min.push(lo);
    out.max.push(hi);
    // Population std; clamped because rounding can make the variance a hair below zero.
    out.std.push(Math.sqrt(Math.max(0, sumSq / n - mean * mean)));
  }
  return out;
}
