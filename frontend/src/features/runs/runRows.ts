/**
 * Runs as the table needs them: a `runTable` page's columns turned into per-run lookups once per
 * page (not once per cell render), nested runs arranged under their parents, and the value of
 * any column for display and CSV.
 */
import { formatMetricValue, type WireMetricValue } from '../../graphql/metricValues';
import { formatDuration, formatTimestamp } from '../../lib/format';
import type { ColumnSpec } from './columns';
import { longToNumber, optionalLongToNumber, type WireLong } from '../../graphql/longs';

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

interface WireTextColumn {
  key: string;
  values: ReadonlyArray<string | null>;
}

/** One page of `runTable`, as far as the table reads it: row i of every column is the i-th run. */
export interface WireRunTable {
  runIds: readonly string[];
  experimentIds: readonly string[];
  names: ReadonlyArray<string | null>;
  statuses: readonly string[];
  users: ReadonlyArray<string | null>;
  startTimes: readonly WireLong[];
  endTimes: ReadonlyArray<WireLong | null>;
  parentIds: ReadonlyArray<string | null>;
  params: readonly WireTextColumn[];
  tags: readonly WireTextColumn[];
  metrics: ReadonlyArray<{
    key: string;
    values: ReadonlyArray<WireMetricValue | null>;
    steps: ReadonlyArray<WireLong | null>;
    mins: ReadonlyArray<WireMetricValue | null>;
    maxs: ReadonlyArray<WireMetricValue | null>;
  }>;
}

/**
 * Rows from one `runTable` page. Each column is walked once, straight down, filling the rows'
 * maps: a page of 200 runs × 30 keys is 6,000 array reads, with no search for a run or a key.
 * A null cell means the run has no such param/tag/metric and leaves no entry, so `cellValue`
 * shows an empty cell as it would for a run object without that key.
 */
export function tableToRunRows(table: WireRunTable): RunRow[] {
  // The attribute columns are as long as runIds; the fallbacks only satisfy the index type.
  const rows = table.runIds.map((id, i): RunRow => {
    const startTime = longToNumber(table.startTimes[i] ?? 0);
    const endTime = optionalLongToNumber(table.endTimes[i]);
    return {
      id,
      name: table.names[i] ?? null,
      experimentId: table.experimentIds[i] ?? '',
      status: table.statuses[i] ?? '',
      startTime,
      endTime,
      duration: endTime !== null ? endTime - startTime : null,
      user: table.users[i] ?? null,
      parentId: table.parentIds[i] ?? null,
      params: new Map(),
      tags: new Map(),
      metrics: new Map(),
    };
  });
  fillTextColumns(rows, table.params, (row) => row.params);
  fillTextColumns(rows, table.tags, (row) => row.tags);
  for (const { key, values, steps, mins, maxs } of table.metrics) {
    rows.forEach((row, i) => {
      const value = values[i];
      if (value == null) return;
      // A present value always comes with its step (latest_metrics.step is NOT NULL); the
      // column's type allows null only because absent cells share it.
      row.metrics.set(key, { value, step: longToNumber(steps[i] ?? 0), min: mins[i] ?? null, max: maxs[i] ?? null });
    });
  }
  return rows;
}

function fillTextColumns(
  rows: readonly RunRow[],
  columns: readonly WireTextColumn[],
  cellsOf: (row: RunRow) => Map<string, string>,
): void {
  for (const { key, values } of columns) {
    rows.forEach((row, i) => {
      const value = values[i];
      if (value != null) cellsOf(row).set(key, value);
    });
  }
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
