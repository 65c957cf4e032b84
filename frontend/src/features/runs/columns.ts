/**
 * Column identities of the runs table. A column id is `<kind>:<key>` (kind never contains a
 * colon, the key may contain anything), e.g. `attributes:status`, `params:lr`, `metrics:loss`,
 * `metrics.min:loss`, `tags:team`. The same id names the column in the URL, picks its value out
 * of a run, and becomes the server's `orderBy` expression.
 */

export type ColumnKind = 'attributes' | 'params' | 'metrics' | 'metrics.min' | 'metrics.max' | 'tags';

export interface ColumnSpec {
  kind: ColumnKind;
  key: string;
}

const KINDS: readonly ColumnKind[] = ['attributes', 'params', 'metrics', 'metrics.min', 'metrics.max', 'tags'];

/** Attribute columns: label and the attribute name the search language sorts by. */
export const ATTRIBUTE_COLUMNS: ReadonlyArray<{ key: string; label: string; sortName: string }> = [
  { key: 'name', label: 'Run', sortName: 'run_name' },
  { key: 'status', label: 'Status', sortName: 'status' },
  { key: 'start_time', label: 'Started', sortName: 'start_time' },
  { key: 'duration', label: 'Duration', sortName: 'duration' },
  { key: 'user', label: 'User', sortName: 'user' },
  { key: 'experiment', label: 'Experiment', sortName: 'experiment_id' },
  { key: 'end_time', label: 'Ended', sortName: 'end_time' },
  { key: 'id', label: 'Run ID', sortName: 'run_id' },
];

export const DEFAULT_ATTRIBUTE_KEYS = ['name', 'status', 'start_time', 'duration', 'user'];

export function columnId(spec: ColumnSpec): string {
  return `${spec.kind}:${spec.key}`;
}

export function parseColumnId(id: string): ColumnSpec | null {
  const colon = id.indexOf(':');
  if (colon <= 0) return null;
  const kind = id.slice(0, colon) as ColumnKind;
  const key = id.slice(colon + 1);
  if (!KINDS.includes(kind) || key.length === 0) return null;
  if (kind === 'attributes' && !ATTRIBUTE_COLUMNS.some((a) => a.key === key)) return null;
  return { kind, key };
}

/**
 * Quote a key for the search language when it is not a plain identifier (MLflow's rule:
 * backticks around keys with dots, spaces or dashes).
 */
export function quoteKey(key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return key;
  return `\`${key.replace(/`/g, '``')}\``;
}

/** The search-language operand for a column, e.g. `metrics.loss.min` or `params.\`lr.0\``. */
export function columnExpression(spec: ColumnSpec): string {
  switch (spec.kind) {
    case 'attributes': {
      const attr = ATTRIBUTE_COLUMNS.find((a) => a.key === spec.key);
      return `attributes.${attr ? attr.sortName : spec.key}`;
    }
    case 'metrics.min':
      return `metrics.${quoteKey(spec.key)}.min`;
    case 'metrics.max':
      return `metrics.${quoteKey(spec.key)}.max`;
    default:
      return `${spec.kind}.${quoteKey(spec.key)}`;
  }
}

export function orderByExpression(spec: ColumnSpec, desc: boolean): string {
  return `${columnExpression(spec)} ${desc ? 'DESC' : 'ASC'}`;
}

export function columnLabel(spec: ColumnSpec): string {
  switch (spec.kind) {
    case 'attributes':
      return ATTRIBUTE_COLUMNS.find((a) => a.key === spec.key)?.label ?? spec.key;
    case 'metrics.min':
      return `${spec.key} (min)`;
    case 'metrics.max':
      return `${spec.key} (max)`;
    default:
      return spec.key;
  }
}

export function columnGroup(spec: ColumnSpec): string {
  switch (spec.kind) {
    case 'attributes':
      return '';
    case 'params':
      return 'Params';
    case 'tags':
      return 'Tags';
    default:
      return 'Metrics';
  }
}

interface PageRun {
  params: ReadonlyMap<string, string>;
  tags: ReadonlyMap<string, string>;
}

export const DEFAULT_METRIC_LIMIT = 6;
export const DEFAULT_PARAM_LIMIT = 15;
export const DEFAULT_TAG_LIMIT = 8;

// Written by the client itself on every run (source, git commit, …): rarely what is triaged.
const SYSTEM_TAG = /^(mltrail|mlflow)\./;

/**
 * Default columns: the common attributes, up to six metrics, then every param of the page's
 * runs (those whose value varies across the runs first: they are what distinguishes them),
 * then every tag, each kind up to a limit. `runs` is the first page; without it the
 * experiments' keys are used as they come.
 */
export function defaultColumns(
  keys: { metricKeys: string[]; paramKeys: string[]; tagKeys?: string[] },
  multiExperiment: boolean,
  runs?: ReadonlyArray<PageRun>,
): string[] {
  const attrs = multiExperiment ? [...DEFAULT_ATTRIBUTE_KEYS, 'experiment'] : DEFAULT_ATTRIBUTE_KEYS;
  let params = keys.paramKeys;
  let tags = (keys.tagKeys ?? []).filter((k) => !SYSTEM_TAG.test(k));
  if (runs && runs.length > 0) {
    const varies = (key: string, of: (r: PageRun) => ReadonlyMap<string, string>) => {
      const first = of(runs[0]!).get(key);
      return runs.some((r) => of(r).get(key) !== first);
    };
    const present = (of: (r: PageRun) => ReadonlyMap<string, string>) => {
      const seen = new Set<string>();
      for (const r of runs) for (const k of of(r).keys()) seen.add(k);
      return seen;
    };
    const pagePar = present((r) => r.params);
    const pageTags = present((r) => r.tags);
    const known = new Set(params);
    const allParams = [...params, ...Array.from(pagePar).filter((k) => !known.has(k)).sort()].filter((k) => pagePar.has(k));
    const varying = allParams.filter((k) => varies(k, (r) => r.params));
    const constant = allParams.filter((k) => !varying.includes(k));
    params = [...varying, ...constant];
    const knownTags = new Set(tags);
    tags = [...tags, ...Array.from(pageTags).filter((k) => !knownTags.has(k) && !SYSTEM_TAG.test(k)).sort()].filter((k) => pageTags.has(k));
  }
  return [
    ...attrs.map((key) => columnId({ kind: 'attributes', key })),
    ...keys.metricKeys.slice(0, DEFAULT_METRIC_LIMIT).map((key) => columnId({ kind: 'metrics', key })),
    ...params.slice(0, DEFAULT_PARAM_LIMIT).map((key) => columnId({ kind: 'params', key })),
    ...tags.slice(0, DEFAULT_TAG_LIMIT).map((key) => columnId({ kind: 'tags', key })),
  ];
}
