/**
 * The runs table for one or several experiments. All view state comes from and goes to the
 * URL (see viewState.ts); data comes page by page from `runs(...)` with the server doing the
 * filtering and sorting.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { LiveIndicator } from '../../components/ui/LiveIndicator';
import { ErrorMessage, Empty, Loading } from '../../components/ui/QueryStates';
import { apiErrors, apiErrorMessage } from '../../graphql/errors';
import { bestFirstDescending, metricDirection, rememberMetricDirection } from '../../lib/metricDirection';
import { paths } from '../../lib/paths';
import { useUrlMirror } from '../../lib/useUrlMirror';
import { ColumnChooser } from './ColumnChooser';
import { defaultColumns, orderByExpression, parseColumnId, type ColumnSpec } from './columns';
import { runsToCsv } from './csvExport';
import { FilterBox } from './FilterBox';
import { locateFilterError } from './filterError';
import { applyPatch } from './liveRows';
import { arrangeRunTree } from './runRows';
import { RunsTable } from './RunsTable';
import { useExperimentKeys } from './useExperimentKeys';
import { useLiveRunRows } from './useLiveRunRows';
import { useRunsPages } from './useRunsPages';
import { nextSort, PAGE_SIZE, parseRunsView, updateRunsView, writeRunsView, type RunsViewState } from './viewState';

/** The most runs the compare view takes (its charts draw one line per run). */
const COMPARE_LIMIT = 100;

function flipMetricDirection(key: string): void {
  rememberMetricDirection(key, metricDirection(key) === 'lower' ? 'higher' : 'lower');
}

export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const view = useMemo(() => parseRunsView(params), [params]);
  const viewRef = useRef(view);
  viewRef.current = view;
  // The router's setter changes identity with every URL change (the page number changes while
  // scrolling); a stable setView keeps the table's callbacks, and so its rows, stable.
  const setParamsRef = useRef(setParams);
  setParamsRef.current = setParams;
  const setView = useCallback((patch: Partial<RunsViewState>, replace = false) => {
    setParamsRef.current(writeRunsView(updateRunsView(viewRef.current, patch)), { replace });
  }, []);

  const keys = useExperimentKeys(view.experimentIds);
  const orderBy = view.sort ? [orderByExpression(view.sort.column, view.sort.desc)] : [];
  const pages = useRunsPages({ experimentIds: view.experimentIds, filter: view.filter, orderBy }, PAGE_SIZE, view.page);
  const multiExperiment = view.experimentIds.length !== 1;
  const commitColumns = useCallback((cols: string[] | null) => setView({ columns: cols }), [setView]);
  const [chosenColumns, setChosenColumns] = useUrlMirror(view.columns, commitColumns);
  // Defaults follow the first page of runs (which params vary), computed once per query.
  const firstPage = useMemo(
    () => (pages.stale ? null : pages.runs.slice(0, PAGE_SIZE)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [pages.stale, pages.runs.length > 0 ? pages.runs[0]?.id : null, Math.min(pages.runs.length, PAGE_SIZE)],
  );
  const defaultsRef = useRef<string[]>([]);
  const defaults = useMemo(() => {
    const next = defaultColumns(keys, multiExperiment, firstPage ?? undefined);
    // While a new query loads, keep the previous defaults instead of flashing others.
    if (firstPage === null && defaultsRef.current.length > 0) return defaultsRef.current;
    defaultsRef.current = next;
    return next;
  }, [keys, multiExperiment, firstPage]);
  const columnIds = chosenColumns ?? defaults;
  const columns = useMemo(
    () => columnIds.map(parseColumnId).filter((c): c is ColumnSpec => c !== null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [columnIds.join('\u0000')],
  );


  // Keyed by content, not by array identity: every URL change (e.g. the page number while
  // scrolling) parses new arrays, and a new Set here would rebuild the tree of 10,000 rows.
  // Mirrored locally so a ticked checkbox shows at once (the router applies URLs in a transition).
  const commitSelected = useCallback((key: string) => setView({ selected: key ? key.split(',') : [] }, true), [setView]);
  const commitExpanded = useCallback((key: string) => setView({ expanded: key ? key.split(',') : [] }, true), [setView]);
  const [selectedKey, setSelectedKey] = useUrlMirror(view.selected.join(','), commitSelected);
  const [expandedKey, setExpandedKey] = useUrlMirror(view.expanded.join(','), commitExpanded);
  const expanded = useMemo(() => new Set(expandedKey ? expandedKey.split(',') : []), [expandedKey]);
  const selected = useMemo(() => new Set(selectedKey ? selectedKey.split(',') : []), [selectedKey]);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const expandedRef = useRef(expanded);
  expandedRef.current = expanded;
  // Live: patches from runChanged / metricsLogged on top of the fetched rows.
  const live = useLiveRunRows(view.experimentIds, pages.runs);
  const shownRuns = useMemo(() => pages.runs.map((r) => applyPatch(r, live.patches.get(r.id))), [pages.runs, live.patches]);
  const rows = useMemo(() => arrangeRunTree(shownRuns, expanded), [shownRuns, expanded]);
  const topRow = useRef(0);
  const [scrollToken, setScrollToken] = useState(0);
  const { retry } = pages;
  // Stable callbacks only in effect dependencies: `live` itself is new on every patch frame.
  const { clearNew } = live;
  const showNewRuns = useCallback(() => {
    clearNew();
    if (viewRef.current.page !== 1) setView({ page: 1 }, true);
    setScrollToken((n) => n + 1);
    retry();
  }, [clearNew, retry, setView]);
  // New runs appear by themselves at the top of an unsorted table the user has not scrolled;
  // otherwise a marker offers them, so rows never move under the user's eyes.
  const autoShowNew = !view.sort && view.page === 1 && topRow.current === 0 && !pages.error;
  const newCount = live.newRunIds.size;
  useEffect(() => {
    if (newCount === 0 || !autoShowNew) return undefined;
    const t = setTimeout(() => {
      clearNew();
      retry();
    }, 300);
    return () => clearTimeout(t);
  }, [newCount, autoShowNew, clearNew, retry]);
  // After a reconnect, events may have been missed: fetch the rows again — a moment later, so
  // that the server has re-registered the subscriptions (a subscribe is not acknowledged) and
  // nothing changes between the refetch and the stream.
  const handledReconnects = useRef(0);
  useEffect(() => {
    if (live.reconnects === handledReconnects.current) return undefined;
    const t = setTimeout(() => {
      handledReconnects.current = live.reconnects;
      retry();
    }, 1000);
    return () => clearTimeout(t);
  }, [live.reconnects, retry]);

  const experimentNames = useMemo(() => new Map(keys.experiments.map((e) => [e.id, e.name])), [keys.experiments]);
  const experimentName = useCallback((id: string) => experimentNames.get(id) ?? id, [experimentNames]);

  // A rejected filter is reported at the filter box; anything else replaces the table.
  const errorMessage = pages.error ? apiErrorMessage(pages.error) : null;
  const filterError =
    pages.error && view.filter && (locateFilterError(errorMessage ?? '') || apiErrors(pages.error).some((e) => e.code === 'INVALID_ARGUMENT'))
      ? errorMessage
      : null;

  const onToggleSelected = useCallback(
    (ids: string[], select: boolean) => {
      const current = new Set(selectedRef.current);
      for (const id of ids) {
        if (select) current.add(id);
        else current.delete(id);
      }
      setSelectedKey(Array.from(current).join(','));
    },
    [setSelectedKey],
  );
  const onToggleExpanded = useCallback(
    (id: string) => {
      const open = new Set(expandedRef.current);
      if (open.has(id)) open.delete(id);
      else open.add(id);
      setExpandedKey(Array.from(open).join(','));
    },
    [setExpandedKey],
  );
  const onTopRowChange = useCallback(
    (index: number) => {
      topRow.current = index;
      const page = Math.floor(index / PAGE_SIZE) + 1;
      if (page !== viewRef.current.page) setView({ page }, true);
    },
    [setView],
  );
  const { loadMore } = pages;
  const onNearEnd = useCallback(() => loadMore(), [loadMore]);

  const navigate = useNavigate();
  const [comparing, setComparing] = useState<string | null>(null);
  const compareAllMatching = async () => {
    try {
      setComparing('Loading matching runs…');
      const loaded = pages.runs.length >= Math.min(COMPARE_LIMIT, pages.totalCount ?? 0) ? pages.runs : await pages.loadAll();
      setComparing(null);
      navigate(paths.compare(loaded.slice(0, COMPARE_LIMIT).map((r) => r.id)));
    } catch (e) {
      setComparing(`Could not load the runs: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const [exporting, setExporting] = useState<string | null>(null);
  const exportCsv = async () => {
    try {
      setExporting('Preparing CSV…');
      const all = await pages.loadAll((n) => setExporting(`Loading runs for CSV: ${n}`));
      const chosen = selected.size > 0 ? all.filter((r) => selected.has(r.id)) : all;
      const blob = new Blob([runsToCsv(chosen, columns, experimentName)], { type: 'text/csv;charset=utf-8' });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `mltrail-runs-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.csv`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setExporting(null);
    } catch (e) {
      setExporting(`CSV export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const title =
    keys.experiments.length === 1
      ? keys.experiments[0]?.name
      : keys.experiments.length > 1
        ? `${keys.experiments.length} experiments`
        : view.experimentIds.length === 0
          ? 'All experiments'
          : 'Runs';

  return (
    <section className="page runs-page">
      <div className="page-header">
        <div>
          <nav className="breadcrumbs">
            <Link to={paths.experiments()}>Experiments</Link> /
          </nav>
          <h1>{keys.fetching && keys.experiments.length === 0 ? 'Runs' : title}</h1>
          {keys.experiments.length > 1 ? (
            <p className="muted">{keys.experiments.map((e) => e.name).join(', ')}</p>
          ) : null}
        </div>
      </div>
      {keys.error ? <ErrorMessage error={keys.error} title="Could not load the experiment" /> : null}
      <div className="toolbar runs-toolbar">
        <FilterBox value={view.filter} errorMessage={filterError} onApply={(filter) => setView({ filter })} />
        <ColumnChooser
          selected={columnIds}
          paramKeys={keys.paramKeys}
          metricKeys={keys.metricKeys}
          tagKeys={keys.tagKeys}
          onChange={(cols) => setChosenColumns(cols)}
          onReset={() => setChosenColumns(null)}
        />
        <Link
          className={`button${selected.size < 2 || selected.size > COMPARE_LIMIT ? ' disabled' : ''}`}
          aria-disabled={selected.size < 2 || selected.size > COMPARE_LIMIT}
          to={selected.size >= 2 && selected.size <= COMPARE_LIMIT ? paths.compare(Array.from(selected)) : '#'}
          onClick={(e) => {
            if (selected.size < 2 || selected.size > COMPARE_LIMIT) e.preventDefault();
          }}
          title={selected.size > COMPARE_LIMIT ? `Compare at most ${COMPARE_LIMIT} runs` : 'Select 2 or more runs to compare'}
          data-testid="compare-selected"
        >
          Compare{selected.size > 0 ? ` ${selected.size} selected` : ''}
        </Link>
        <button
          type="button"
          onClick={() => void compareAllMatching()}
          disabled={pages.runs.length < 2 || comparing === 'Loading matching runs…'}
          title={`Compare the first ${COMPARE_LIMIT} runs of this view`}
        >
          Compare all matching{pages.totalCount !== null && pages.totalCount > COMPARE_LIMIT ? ` (first ${COMPARE_LIMIT})` : ''}
        </button>
        <button type="button" onClick={() => void exportCsv()} disabled={pages.runs.length === 0 || exporting === 'Preparing CSV…'}>
          Export CSV{selected.size > 0 ? ` (${selected.size} selected)` : ''}
        </button>
      </div>
      <div className="status-line" aria-live="polite">
        <LiveIndicator active />{' '}
        <span data-testid="runs-count">
          {pages.error
            ? ''
            : pages.stale || pages.totalCount === null
              ? 'Loading…'
            : `${pages.totalCount.toLocaleString()} run${pages.totalCount === 1 ? '' : 's'}`}
          {!pages.stale && pages.totalCount !== null && pages.runs.length < pages.totalCount
            ? ` · ${pages.runs.length.toLocaleString()} loaded`
            : ''}
        </span>
        {view.sort ? (
          <span className="muted"> · sorted by {orderBy[0]}</span>
        ) : null}
        {selected.size > 0 ? (
          <span className="selection">
            {' '}
            · {selected.size} selected for comparison{' '}
            <button type="button" className="link-button" onClick={() => setSelectedKey('')}>
              clear
            </button>
          </span>
        ) : null}
        {exporting ? <span className="muted"> · {exporting}</span> : null}
        {comparing ? <span className="muted"> · {comparing}</span> : null}
        {filterError && pages.runs.length > 0 ? <span className="muted"> · showing the previous results</span> : null}
        {newCount > 0 && !autoShowNew ? (
          <button type="button" className="new-runs-marker" data-testid="new-runs-marker" onClick={showNewRuns}>
            {newCount} new run{newCount === 1 ? '' : 's'} — show
          </button>
        ) : null}
      </div>
      {pages.error && !filterError ? (
        <ErrorMessage error={pages.error} title="Could not load runs" onRetry={pages.retry} />
      ) : pages.runs.length === 0 && (pages.fetching || keys.fetching) && !filterError ? (
        <Loading label="Loading runs…" />
      ) : pages.runs.length === 0 ? (
        filterError ? null : (
          <Empty>
            {view.filter ? <p>No run matches this filter.</p> : <p>This experiment has no runs yet.</p>}
          </Empty>
        )
      ) : (
        // A rejected filter keeps the previous results on screen (dimmed) under the error.
        <RunsTable
          rows={rows}
          stale={pages.stale}
          scrollToken={scrollToken}
          columns={columns}
          sort={view.sort}
          onSort={(column) => setView({ sort: nextSort(view.sort, column) })}
          onFlipDirection={(column) => {
            flipMetricDirection(column.key);
            setView({ sort: { column, desc: bestFirstDescending(column.key) } });
          }}
          selected={selected}
          onToggleSelected={onToggleSelected}
          expanded={expanded}
          onToggleExpanded={onToggleExpanded}
          experimentName={experimentName}
          onNearEnd={onNearEnd}
          initialRow={(view.page - 1) * PAGE_SIZE}
          onTopRowChange={onTopRowChange}
          footer={
            pages.fetching ? (
              <span className="muted">Loading more runs…</span>
            ) : pages.hasNextPage ? (
              <button type="button" className="link-button" onClick={pages.loadMore}>
                Load more
              </button>
            ) : (
              <span className="muted">All {pages.runs.length.toLocaleString()} runs loaded</span>
            )
          }
        />
      )}
    </section>
  );
}
