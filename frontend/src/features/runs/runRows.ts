/**
 * Runs as the table needs them: params, tags and latest metrics turned into lookups once per
 * page (not once per cell render), nested runs arranged under their parents, and the value of
 * any column for display and CSV.
 */
import { formatMetricValue, type WireMetricValue } from '../../graphql/metricValues';
import { formatDuration, formatTimestamp } from '../../lib/format';
import type { ColumnSpec } from './columns';

export interface LatestMetricCell {
  value: WireMetricValue;
  step: number;
  min: WireMetricValue | null;
  max: WireMetricValue | null;
}

export interface RunRow {
  id: string;
  name: string | null;
  experimentId: string;
  status: string;
  startTime: number;
  endTime: number | null;
  duration: number | null;
  user: string | null;
  parentId: string | null;
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: Map<string, LatestMetricCell>;
}

interface WireRun {
  id: string;
  name?: string | null;
  experimentId: string;
  status: string;
  startTime: number;
  endTime?: number | null;
  duration?: number | null;
  user?: string | null;
  parentId?: string | null;
  params: ReadonlyArray<{ key: string; value: string }>;
  tags: ReadonlyArray<{ key: string; value: string }>;
  latestMetrics: ReadonlyArray<{
    key: string;
    value: WireMetricValue;
    step: number;
    min?: WireMetricValue | null;
    max?: WireMetricValue | null;
  }>;
}

export function toRunRow(run: WireRun): RunRow {
  return {
    id: run.id,
    name: run.name ?? null,
    experimentId: run.experimentId,
    status: run.status,
    startTime: run.startTime,
    endTime: run.endTime ?? null,
    duration: run.duration ?? (run.endTime != null ? run.endTime - run.startTime : null),
    user: run.user ?? null,
    parentId: run.parentId ?? null,
    params: new Map(run.params.map((p) => [p.key, p.value])),
    tags: new Map(run.tags.map((t) => [t.key, t.value])),
    metrics: new Map(
      run.latestMetrics.map((m) => [m.key, { value: m.value, step: m.step, min: m.min ?? null, max: m.max ?? null }]),
    ),
  };
}

export interface TreeRow {
  run: RunRow;
  depth: number;
  childCount: number;
}

/**
 * Orders runs for display: the server's order is kept at the top level, and a run whose parent
 * is among the loaded runs is listed under it (in the server's order too), shown only when the
 * parent is expanded. Runs whose parent is not loaded stay at the top level.
 */
export function arrangeRunTree(runs: readonly RunRow[], expanded: ReadonlySet<string>): TreeRow[] {
  const byId = new Set(runs.map((r) => r.id));
  const children = new Map<string, RunRow[]>();
  const roots: RunRow[] = [];
  for (const run of runs) {
    if (run.parentId !== null && run.parentId !== run.id && byId.has(run.parentId)) {
      const list = children.get(run.parentId);
      if (list) list.push(run);
      else children.set(run.parentId, [run]);
    } else {
      roots.push(run);
    }
  }
  const out: TreeRow[] = [];
  const visited = new Set<string>();
  const visit = (run: RunRow, depth: number) => {
    if (visited.has(run.id)) return; // a parent cycle in bad data must not hang the page
    visited.add(run.id);
    const kids = children.get(run.id) ?? [];
    out.push({ run, depth, childCount: kids.length });
    if (kids.length > 0 && expanded.has(run.id)) for (const kid of kids) visit(kid, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  return out;
}

export type CellValue = string | number | null;

/** The raw value of a column (numbers stay numbers, for alignment and CSV). */
export function cellValue(run: RunRow, column: ColumnSpec, experimentName?: (id: string) => string): CellValue {
  switch (column.kind) {
    case 'attributes':
      switch (column.key) {
        case 'name':
          return run.name;
        case 'id':
          return run.id;
        case 'status':
          return run.status;
        case 'start_time':
          return run.startTime;
        case 'end_time':
          return run.endTime;
        case 'duration':
          return run.duration;
        case 'user':
          return run.user;
        case 'experiment':
          return experimentName ? experimentName(run.experimentId) : run.experimentId;
        default:
          return null;
      }
    case 'params':
      return run.params.get(column.key) ?? null;
    case 'tags':
      return run.tags.get(column.key) ?? null;
    case 'metrics': {
      const m = run.metrics.get(column.key);
      return m ? metricCell(m.value) : null;
    }
    case 'metrics.min': {
      const m = run.metrics.get(column.key);
      return m && m.min !== null ? metricCell(m.min) : null;
    }
    case 'metrics.max': {
      const m = run.metrics.get(column.key);
      return m && m.max !== null ? metricCell(m.max) : null;
    }
  }
}

// "NaN" / "Infinity" stay readable strings; finite values stay numbers.
function metricCell(v: WireMetricValue): CellValue {
  return v;
}

/** The text a cell shows. */
export function cellText(run: RunRow, column: ColumnSpec, experimentName?: (id: string) => string): string {
  const v = cellValue(run, column, experimentName);
  if (v === null) return '';
  if (column.kind === 'attributes') {
    if (column.key === 'start_time' || column.key === 'end_time') return formatTimestamp(v as number);
    if (column.key === 'duration') return formatDuration(v as number);
  }
  if (column.kind.startsWith('metrics')) return formatMetricValue(v);
  return String(v);
}
