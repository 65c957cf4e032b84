/**
 * A chart per metric of the run. The histories of every metric come in one request, each
 * downsampled to about two points per pixel (`maxPoints`); dragging across a chart zooms and
 * asks again for that step range only, which brings back finer points. While the run is
 * RUNNING the charts grow through `metricsLogged` (useLiveMetricHistories): points are pushed
 * onto the arrays the chart already holds, never re-fetched or rebuilt. A metric with a single
 * value is shown as that value, not as a chart of one dot.
 */
import { useMemo, useState } from 'react';
import { MetricChart } from '../../components/charts/MetricChart';
import { pointsForWidth, type ChartData } from '../../components/charts/chartData';
import { Empty, ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { formatMetricValue, type WireMetricValue } from '../../graphql/metricValues';
import type { LiveSeries } from '../../graphql/liveSeries';
import { useLiveMetricHistories } from '../../graphql/useLiveMetricHistories';
import { isSystemKey } from '../../lib/systemMetrics';
import { useUrlMirror } from '../../lib/useUrlMirror';
import { formatZoom, parseZoom, zoomParamName } from './metricZoom';
import type { WireLong } from '../../graphql/longs';

export interface MetricChartsProps {
  runId: string;
  metrics: ReadonlyArray<{ key: string; value: WireMetricValue; step: WireLong; count: number }>;
  live: boolean;
  params: URLSearchParams;
  onParamChange: (name: string, value: string | null) => void;
}

export function MetricCharts({ runId, metrics, live, params, onParamChange }: MetricChartsProps) {
  const [search, setSearch] = useUrlMirror(params.get('m') ?? '', (m) => onParamChange('m', m));
  // Decided once per page: the width a chart gets in the grid, in CSS pixels.
  const maxPoints = useMemo(() => pointsForWidth(Math.min(window.innerWidth - 80, 900)), []);
  const runIds = useMemo(() => [runId], [runId]);
  const all = useLiveMetricHistories({ runIds, keys: null, maxPoints, live });

  // Metrics known from the run, plus any that started while the page was open — except the
  // machine metrics (system/…), which have their own tab: the live fetch asks for every key.
  const byKey = new Map(all.series.map((s) => [s.key, s]));
  const keys = Array.from(new Set([...metrics.map((m) => m.key), ...Array.from(byKey.keys()).filter((k) => !isSystemKey(k))]));
  const needle = search.trim().toLowerCase();
  const shown = keys.filter((k) => k.toLowerCase().includes(needle)).sort((a, b) => a.localeCompare(b));

  if (keys.length === 0) return all.fetching ? <Loading label="Loading metrics…" /> : <Empty>This run has no metrics yet.</Empty>;
  return (
    <div className="metrics-view" data-testid="metrics-view" data-backfills={all.backfills}>
      <input
        type="search"
        className="search-input"
        placeholder="Filter metrics"
        aria-label="Filter metrics"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      {all.error ? <ErrorMessage error={all.error} title="Could not load the metrics" onRetry={all.refetch} /> : null}
      {shown.length === 0 ? <Empty>No metric matches “{search}”.</Empty> : null}
      <div className="chart-grid">
        {shown.map((key) => {
          const zoom = parseZoom(params.get(zoomParamName(key)));
          return zoom ? (
            <ZoomedPanel
              key={key}
              runId={runId}
              metricKey={key}
              live={live}
              maxPoints={maxPoints}
              zoom={zoom}
              onZoom={(range) => onParamChange(zoomParamName(key), formatZoom(range))}
            />
          ) : (
            <MetricPanel
              key={key}
              metricKey={key}
              series={byKey.get(key) ?? null}
              version={all.version}
              loading={all.fetching}
              zoom={null}
              onZoom={(range) => onParamChange(zoomParamName(key), formatZoom(range))}
            />
          );
        })}
      </div>
    </div>
  );
}

/** A zoomed chart asks for its own step range (finer points), and keeps growing inside it. */
function ZoomedPanel(props: {
  runId: string;
  metricKey: string;
  live: boolean;
  maxPoints: number;
  zoom: [number, number];
  onZoom: (range: [number, number] | null) => void;
}) {
  const runIds = useMemo(() => [props.runId], [props.runId]);
  const keys = useMemo(() => [props.metricKey], [props.metricKey]);
  const h = useLiveMetricHistories({
    runIds,
    keys,
    maxPoints: props.maxPoints,
    minStep: props.zoom[0],
    maxStep: props.zoom[1],
    live: props.live,
  });
  return (
    <MetricPanel
      metricKey={props.metricKey}
      series={h.series[0] ?? null}
      version={h.version}
      loading={h.fetching}
      error={h.error}
      zoom={props.zoom}
      onZoom={props.onZoom}
    />
  );
}

function MetricPanel(props: {
  metricKey: string;
  series: LiveSeries | null;
  version: number;
  loading: boolean;
  error?: import('urql').CombinedError | null;
  zoom: [number, number] | null;
  onZoom: (range: [number, number] | null) => void;
}) {
  const { metricKey, series, zoom, version } = props;
  // The live arrays themselves, wrapped anew per version so the chart calls setData.
  const chart = useMemo<ChartData | null>(
    () => (series ? { x: series.steps, ys: [series.y], labels: [metricKey], nonFinite: [series.nonFinite] } : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [series, metricKey, version],
  );
  const [draws, setDraws] = useState(0);
  const n = series?.steps.length ?? 0;
  const latest = n > 0 ? series!.values[n - 1] : null;
  const single = !zoom && n === 1 && !props.loading;

  return (
    <div
      className="panel chart-panel"
      data-testid="metric-panel"
      data-metric={metricKey}
      data-points={n}
      data-last-step={n > 0 ? series!.steps[n - 1] : ''}
      data-drawn={draws > 0 || single ? 'true' : 'false'}
      data-loading={props.loading ? 'true' : 'false'}
    >
      <div className="chart-head">
        <h3>{metricKey}</h3>
        <span className="muted">latest {formatMetricValue(latest)}</span>
        {zoom ? (
          <button type="button" className="link-button" onClick={() => props.onZoom(null)}>
            Reset zoom ({zoom[0]}–{zoom[1]})
          </button>
        ) : null}
      </div>
      {props.error ? (
        <ErrorMessage error={props.error} title={`Could not load ${metricKey}`} />
      ) : !chart ? (
        props.loading ? <Loading label="Loading points…" /> : <Empty>No points yet.</Empty>
      ) : single ? (
        <div className="metric-summary" data-testid="metric-summary">
          <span className="metric-summary-value">{formatMetricValue(latest)}</span>
          <span className="muted">a single value, logged at step {series!.steps[0]}</span>
        </div>
      ) : chart.x.length === 0 ? (
        <Empty>No points{zoom ? ' in this step range' : ''}.</Empty>
      ) : (
        <>
          <MetricChart
            data={chart}
            xLabel="step"
            xRange={zoom}
            onXRangeChange={props.onZoom}
            onDraw={() => setDraws((d) => (d === 0 ? 1 : d))}
          />
          <p className="chart-caption muted">
            {series!.downsampled
              ? `${n.toLocaleString()} of ${series!.totalPoints.toLocaleString()} points (downsampled by the server; drag to zoom for detail)`
              : `${n.toLocaleString()} points`}
            {series!.nonFinite > 0 ? ` · ${series!.nonFinite} NaN/∞ value${series!.nonFinite === 1 ? '' : 's'} not drawn` : ''}
            {props.loading ? ' · loading…' : ''}
          </p>
        </>
      )}
    </div>
  );
}
