/**
 * Compare runs (`/compare?runs=a,b,…`, 2–100 runs; every control's state is in the URL):
 * overlaid learning curves per metric with a legend that shows/hides runs and pins a baseline,
 * grouping by a param or tag (mean and band), the diff table, parallel coordinates with
 * brushing and a scatter. Follows the runs live while any of them is RUNNING.
 */
import { useCallback, useMemo, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { X_AXIS_MODES, parseXAxisMode } from '../../components/charts/xAxis';
import { LiveIndicator } from '../../components/ui/LiveIndicator';
import { ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { StatusBadge } from '../../components/ui/StatusBadge';
import { paths } from '../../lib/paths';
import { useUrlMirror } from '../../lib/useUrlMirror';
import { runColour } from './colours';
import { COMPARE_MAX_RUNS, parseCompareView, writeCompareView, type CompareView } from './compareView';
import { DiffTable, Swatch } from './DiffTable';
import { defaultAxes } from './fields';
import { OverlayCharts } from './OverlayCharts';
import { ParallelCoordinates } from './ParallelCoordinates';
import { ScatterPlot } from './ScatterPlot';
import { useCompareRuns } from './useCompareRuns';

/** Charts drawn at once; the metric search narrows the rest. */
const MAX_CHARTS = 12;

export default function ComparePage() {
  const [params, setParams] = useSearchParams();
  const view = useMemo(() => parseCompareView(params), [params]);
  const viewRef = useRef(view);
  viewRef.current = view;
  const setParamsRef = useRef(setParams);
  setParamsRef.current = setParams;
  const setView = useCallback((patch: Partial<CompareView>) => {
    const next = writeCompareView({ ...viewRef.current, ...patch });
    // Zoom ranges live beside the view's own parameters.
    for (const [k, v] of new URLSearchParams(window.location.search)) if (k.startsWith('zoom.')) next.set(k, v);
    setParamsRef.current(next, { replace: true });
  }, []);
  const setZoom = useCallback((key: string, range: [number, number] | null) => {
    setParamsRef.current(
      (current) => {
        const next = new URLSearchParams(current);
        if (range) next.set(`zoom.${key}`, `${range[0]}..${range[1]}`);
        else next.delete(`zoom.${key}`);
        return next;
      },
      { replace: true },
    );
  }, []);
  const zoomOf = (key: string): [number, number] | null => {
    const m = /^(-?[\d.e+-]+)\.\.(-?[\d.e+-]+)$/.exec(params.get(`zoom.${key}`) ?? '');
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    return Number.isFinite(lo) && Number.isFinite(hi) && hi > lo ? [lo, hi] : null;
  };

  const { runs, fetching, error, running, missing } = useCompareRuns(view.runIds);
  const colours = useMemo(() => new Map(view.runIds.map((id, i) => [id, runColour(i)])), [view.runIds]);
  const hidden = useMemo(() => new Set(view.hidden), [view.hidden]);
  const visible = useMemo(() => runs.filter((r) => !hidden.has(r.id)), [runs, hidden]);

  const metricKeys = useMemo(() => {
    const keys = new Set<string>();
    for (const r of runs) for (const k of r.metrics.keys()) keys.add(k);
    return Array.from(keys).sort();
  }, [runs]);
  const [search, setSearch] = useUrlMirror(view.metricSearch, (m) => setView({ metricSearch: m }));
  const shownMetrics = useMemo(() => {
    const needle = view.metricSearch.trim().toLowerCase();
    return metricKeys.filter((k) => k.toLowerCase().includes(needle)).slice(0, MAX_CHARTS);
  }, [metricKeys, view.metricSearch]);
  const groupOptions = useMemo(() => {
    const p = new Set<string>();
    const t = new Set<string>();
    for (const r of runs) {
      for (const k of r.params.keys()) p.add(k);
      for (const k of r.tags.keys()) if (!/^(mltrail|mlflow)\./.test(k)) t.add(k);
    }
    return [...Array.from(p).sort().map((k) => `params:${k}`), ...Array.from(t).sort().map((k) => `tags:${k}`)];
  }, [runs]);
  const [smoothing, setSmoothing] = useUrlMirror(view.smoothing, (s) => setView({ smoothing: s }));

  if (view.runIds.length < 2) {
    return (
      <section className="page compare-page">
        <h1>Compare runs</h1>
        <p className="muted">Select 2 to {COMPARE_MAX_RUNS} runs in a runs table and choose “Compare”.</p>
        <Link to={paths.experiments()}>Go to the experiments</Link>
      </section>
    );
  }
  if (error && runs.length === 0) return <ErrorMessage error={error} title="Could not load the runs" />;
  if (runs.length === 0) return fetching ? <Loading label="Loading runs…" /> : <ErrorMessage error="None of these runs exists." />;

  const experimentIds = Array.from(new Set(runs.map((r) => r.experimentId)));
  const toggleHidden = (id: string) =>
    setView({ hidden: hidden.has(id) ? view.hidden.filter((h) => h !== id) : [...view.hidden, id] });

  return (
    <section className="page compare-page" data-testid="compare-page">
      <div className="page-header">
        <div>
          <nav className="breadcrumbs">
            <Link to={paths.experiments()}>Experiments</Link> / <Link to={paths.runs(experimentIds)}>Runs</Link> /
          </nav>
          <h1>
            Compare {runs.length} runs <LiveIndicator active={running} />
          </h1>
          {missing.length > 0 ? <p className="muted">{missing.length} run(s) in the link no longer exist.</p> : null}
        </div>
      </div>

      <div className="toolbar compare-toolbar">
        <label className="inline-field">
          x-axis{' '}
          <select aria-label="x-axis" value={view.x} onChange={(e) => setView({ x: parseXAxisMode(e.target.value) })}>
            {X_AXIS_MODES.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          Smoothing{' '}
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            aria-label="Smoothing"
            onChange={(e) => setSmoothing(Number(e.target.value))}
          />{' '}
          <span className="mono">{smoothing.toFixed(2)}</span>
        </label>
        <label className="checkbox-label">
          <input type="checkbox" checked={view.logY} onChange={(e) => setView({ logY: e.target.checked })} /> Log scale
        </label>
        <label className="inline-field">
          Group by{' '}
          <select aria-label="Group by" value={view.groupBy ?? ''} onChange={(e) => setView({ groupBy: e.target.value || null })}>
            <option value="">— each run —</option>
            {groupOptions.map((g) => (
              <option key={g} value={g}>
                {g.replace(':', ': ')}
              </option>
            ))}
          </select>
        </label>
        {view.groupBy ? (
          <label className="inline-field">
            Band{' '}
            <select aria-label="Band" value={view.band} onChange={(e) => setView({ band: e.target.value === 'std' ? 'std' : 'minmax' })}>
              <option value="minmax">min–max</option>
              <option value="std">± std</option>
            </select>
          </label>
        ) : null}
        <input
          type="search"
          className="search-input"
          placeholder={`Filter metrics (${metricKeys.length})`}
          aria-label="Filter metrics"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>

      <div className="compare-legend" data-testid="compare-legend">
        {runs.map((r) => (
          <span key={r.id} className={`legend-item${hidden.has(r.id) ? ' is-hidden' : ''}${view.baseline === r.id ? ' is-baseline' : ''}`} data-run-id={r.id} data-colour={colours.get(r.id)}>
            <button type="button" className="legend-toggle" onClick={() => toggleHidden(r.id)} title={hidden.has(r.id) ? 'Show this run' : 'Hide this run'} aria-pressed={!hidden.has(r.id)}>
              <Swatch colour={colours.get(r.id)} />
              {r.name}
            </button>
            <StatusBadge status={r.status} />
            <button
              type="button"
              className="legend-pin"
              onClick={() => setView({ baseline: view.baseline === r.id ? null : r.id })}
              title={view.baseline === r.id ? 'Unpin the baseline' : 'Pin as the baseline (drawn thick, on top)'}
              aria-pressed={view.baseline === r.id}
            >
              {view.baseline === r.id ? '★' : '☆'}
            </button>
            <Link to={paths.run(r.id)} className="legend-link" title="Open the run">
              ↗
            </Link>
          </span>
        ))}
        {view.hidden.length > 0 ? (
          <button type="button" className="link-button" onClick={() => setView({ hidden: [] })}>
            show all
          </button>
        ) : null}
      </div>

      <OverlayCharts
        runs={runs}
        visible={visible}
        colours={colours}
        metricKeys={shownMetrics}
        view={view}
        live={running}
        zoomOf={zoomOf}
        onZoom={setZoom}
      />
      {metricKeys.length > shownMetrics.length ? (
        <p className="muted">
          Showing {shownMetrics.length} of {metricKeys.length} metrics; filter to see others.
        </p>
      ) : null}

      <DiffTable
        runs={runs}
        colours={colours}
        showAll={view.diffAll}
        transposed={view.transposed}
        onShowAll={(all) => setView({ diffAll: all })}
        onTranspose={(t) => setView({ transposed: t })}
      />
      <ParallelCoordinates
        runs={visible}
        colours={colours}
        axesIds={view.axes ?? defaultAxes(runs)}
        onAxesChange={(axes) => setView({ axes })}
        onKeepOnly={(ids) => setView({ runIds: ids, hidden: [] })}
      />
      <ScatterPlot runs={visible} colours={colours} x={view.scatterX} y={view.scatterY} colour={view.scatterColour} onChange={(patch) => setView(patch)} />
    </section>
  );
}
