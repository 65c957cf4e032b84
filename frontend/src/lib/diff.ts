/**
 * The diff table of compared runs: one row per param, per metric figure (latest, min, max) and
 * per tag, one column per run, with whether the row differs across the runs. "Only what
 * differs" hides the rest; transposing swaps rows and columns (a render concern, see `transpose`).
 */

export interface DiffRun {
  id: string;
  name: string;
  params: ReadonlyMap<string, string>;
  tags: ReadonlyMap<string, string>;
  metrics: ReadonlyMap<string, { latest: number | string; min: number | string | null; max: number | string | null }>;
}

export type DiffSection = 'params' | 'metrics' | 'tags';

export interface DiffRow {
  section: DiffSection;
  key: string;
  /** `lr`, `loss (min)`, … */
  label: string;
  values: Array<string | number | null>;
  differs: boolean;
}

// Tags the client writes itself (mltrail.*, mlflow.*) differ on every run and hide the signal.
const SYSTEM_TAG = /^(mltrail|mlflow)\./;

function sameValues(values: ReadonlyArray<string | number | null>): boolean {
  const norm = values.map((v) => (typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : String(v)) : v));
  return norm.every((v) => v === norm[0]);
}

function sortedKeys(maps: Iterable<ReadonlyMap<string, unknown>>, skip?: RegExp): string[] {
  const keys = new Set<string>();
  for (const m of maps) for (const k of m.keys()) if (!skip || !skip.test(k)) keys.add(k);
  return Array.from(keys).sort((a, b) => a.localeCompare(b));
}

export function diffRows(runs: readonly DiffRun[]): DiffRow[] {
  const rows: DiffRow[] = [];
  const push = (section: DiffSection, key: string, label: string, values: Array<string | number | null>) =>
    rows.push({ section, key, label, values, differs: runs.length > 1 && !sameValues(values) });
  for (const key of sortedKeys(runs.map((r) => r.params))) {
    push('params', key, key, runs.map((r) => r.params.get(key) ?? null));
  }
  for (const key of sortedKeys(runs.map((r) => r.metrics))) {
    push('metrics', key, key, runs.map((r) => r.metrics.get(key)?.latest ?? null));
    push('metrics', key, `${key} (min)`, runs.map((r) => r.metrics.get(key)?.min ?? null));
    push('metrics', key, `${key} (max)`, runs.map((r) => r.metrics.get(key)?.max ?? null));
  }
  for (const key of sortedKeys(runs.map((r) => r.tags), SYSTEM_TAG)) {
    push('tags', key, key, runs.map((r) => r.tags.get(key) ?? null));
  }
  return rows;
}

export function visibleDiffRows(rows: readonly DiffRow[], onlyDiffering: boolean): DiffRow[] {
  return onlyDiffering ? rows.filter((r) => r.differs) : rows.slice();
}

/** Rows become columns: a header row of labels, then one row per run (name first). */
export function transpose(rows: readonly DiffRow[], runNames: readonly string[]): { header: string[]; body: Array<Array<string | number | null>> } {
  return {
    header: ['Run', ...rows.map((r) => r.label)],
    body: runNames.map((name, i) => [name, ...rows.map((r) => r.values[i] ?? null)]),
  };
}
