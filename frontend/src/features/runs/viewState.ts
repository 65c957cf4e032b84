/**
 * Everything an analyst sees in the runs table lives in the URL, so a shared link reproduces
 * it: experiments, filter, sort, columns, selection, expanded parents and the page in view.
 *
 *   /runs?exp=a,b&filter=metrics.acc>0.9&sort=metrics:acc&desc=1&col=attributes:name&col=params:lr
 *         &sel=r1,r2&open=r0&page=3
 *
 * Columns are repeated `col` parameters (a param key may contain a comma); ids are comma lists.
 */
import { readList, readPositiveInt, writeList, writeString } from '../../lib/searchParams';
import { bestFirstDescending } from '../../lib/metricDirection';
import { parseColumnId, type ColumnSpec } from './columns';

export interface RunsViewState {
  experimentIds: string[];
  filter: string;
  sort: { column: ColumnSpec; desc: boolean } | null;
  /** null means "the defaults for these experiments" — not written to the URL. */
  columns: string[] | null;
  selected: string[];
  /** Parent runs whose children are shown. */
  expanded: string[];
  /** 1-based page (of PAGE_SIZE rows) at the top of the viewport. */
  page: number;
}

export const PAGE_SIZE = 200;

export function parseRunsView(params: URLSearchParams): RunsViewState {
  const sortId = params.get('sort');
  const sortColumn = sortId ? parseColumnId(sortId) : null;
  const cols = params.getAll('col').filter((id) => parseColumnId(id) !== null);
  return {
    experimentIds: readList(params, 'exp'),
    filter: params.get('filter') ?? '',
    sort: sortColumn ? { column: sortColumn, desc: params.get('desc') === '1' } : null,
    columns: params.has('col') ? cols : null,
    selected: readList(params, 'sel'),
    expanded: readList(params, 'open'),
    page: readPositiveInt(params, 'page', 1),
  };
}

export function writeRunsView(state: RunsViewState): URLSearchParams {
  const params = new URLSearchParams();
  writeList(params, 'exp', state.experimentIds);
  writeString(params, 'filter', state.filter.trim());
  if (state.sort) {
    params.set('sort', `${state.sort.column.kind}:${state.sort.column.key}`);
    if (state.sort.desc) params.set('desc', '1');
  }
  if (state.columns !== null) {
    // An explicit empty choice still has to be distinguishable from "defaults".
    if (state.columns.length === 0) params.append('col', '');
    for (const id of state.columns) params.append('col', id);
  }
  writeList(params, 'sel', state.selected);
  writeList(params, 'open', state.expanded);
  if (state.page > 1) params.set('page', String(state.page));
  return params;
}

/** Changing what the table shows (experiments, filter, sort) starts again at page 1. */
export function updateRunsView(state: RunsViewState, patch: Partial<RunsViewState>): RunsViewState {
  const next = { ...state, ...patch };
  const resets = 'experimentIds' in patch || 'filter' in patch || 'sort' in patch;
  if (resets && !('page' in patch)) next.page = 1;
  return next;
}

/**
 * Cycle a header click through first order → reversed → unsorted. The first order of a metric
 * is best-first by its direction (descending unless lower is better, see lib/metricDirection);
 * of anything else, ascending.
 */
export function nextSort(
  current: RunsViewState['sort'],
  column: ColumnSpec,
  firstDesc: (column: ColumnSpec) => boolean = defaultFirstDesc,
): RunsViewState['sort'] {
  const same = current && current.column.kind === column.kind && current.column.key === column.key;
  const first = firstDesc(column);
  if (!same) return { column, desc: first };
  if (current.desc === first) return { column, desc: !current.desc };
  return null;
}

function defaultFirstDesc(column: ColumnSpec): boolean {
  return column.kind.startsWith('metrics') ? bestFirstDescending(column.key) : false;
}
