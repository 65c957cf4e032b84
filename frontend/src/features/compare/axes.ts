/**
 * Axes of the parallel-coordinates and scatter plots: a param or metric across the compared
 * runs becomes a numeric axis when every present value is a finite number, a categorical one
 * otherwise (e.g. `model = rf | xgb`). Positions are 0..1 along the axis; brushing keeps the
 * runs whose position falls inside the brushed interval.
 */

export type AxisValue = string | number | null | undefined;

export type Axis =
  | { kind: 'numeric'; min: number; max: number }
  | { kind: 'categorical'; categories: string[] };

function asNumber(v: AxisValue): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export function buildAxis(values: readonly AxisValue[]): Axis {
  const present = values.filter((v) => v !== null && v !== undefined && v !== '');
  if (present.length > 0 && present.every((v) => asNumber(v) !== null)) {
    const nums = present.map((v) => asNumber(v) as number);
    return { kind: 'numeric', min: Math.min(...nums), max: Math.max(...nums) };
  }
  const categories = Array.from(new Set(present.map(String))).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return { kind: 'categorical', categories };
}

/** 0 (bottom / left) … 1 (top / right); null when the run has no value on this axis. */
export function axisPosition(axis: Axis, v: AxisValue): number | null {
  if (axis.kind === 'numeric') {
    const n = asNumber(v);
    if (n === null) return null;
    return axis.max === axis.min ? 0.5 : (n - axis.min) / (axis.max - axis.min);
  }
  if (v === null || v === undefined || v === '') return null;
  const i = axis.categories.indexOf(String(v));
  if (i < 0) return null;
  return axis.categories.length === 1 ? 0.5 : i / (axis.categories.length - 1);
}

/** Tick labels with their positions. */
export function axisTicks(axis: Axis, count = 5): Array<{ position: number; label: string }> {
  if (axis.kind === 'categorical') return axis.categories.map((c, i) => ({ position: axis.categories.length === 1 ? 0.5 : i / (axis.categories.length - 1), label: c }));
  if (axis.max === axis.min) return [{ position: 0.5, label: formatTick(axis.min) }];
  return Array.from({ length: count }, (_, i) => {
    const p = i / (count - 1);
    return { position: p, label: formatTick(axis.min + p * (axis.max - axis.min)) };
  });
}

function formatTick(n: number): string {
  const a = Math.abs(n);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return n.toExponential(2);
  return String(Number(n.toPrecision(4)));
}

/** A brush: the kept interval of positions on one axis. */
export interface Brush {
  lo: number;
  hi: number;
}

/** Ids of the runs inside every brush (a run without a value on a brushed axis is out). */
export function brushedRuns(
  runs: ReadonlyArray<{ id: string; values: ReadonlyMap<string, AxisValue> }>,
  axes: ReadonlyMap<string, Axis>,
  brushes: ReadonlyMap<string, Brush>,
): Set<string> {
  const kept = new Set<string>();
  for (const run of runs) {
    let inside = true;
    for (const [axisId, brush] of brushes) {
      const axis = axes.get(axisId);
      if (!axis) continue;
      const p = axisPosition(axis, run.values.get(axisId));
      if (p === null || p < Math.min(brush.lo, brush.hi) - 1e-9 || p > Math.max(brush.lo, brush.hi) + 1e-9) {
        inside = false;
        break;
      }
    }
    if (inside) kept.add(run.id);
  }
  return kept;
}
