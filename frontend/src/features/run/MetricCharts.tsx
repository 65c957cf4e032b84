/**
 * A chart per metric of the run. Each chart asks the server for about two points per pixel
 * (`maxPoints`), so a million-point series arrives downsampled; dragging across a chart zooms
 * and asks again for that step range only, which brings back finer points.
 */
import { useMemo, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../graphql/generated';
import { MetricChart } from '../../components/charts/MetricChart';
import { pointsForWidth, toChartData, type ChartData } from '../../components/charts/chartData';
import { Empty, ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { formatMetricValue, type WireMetricValue } from '../../graphql/metricValues';
import { useUrlMirror } from '../../lib/useUrlMirror';
import { formatZoom, parseZoom, zoomParamName } from './metricZoom';

const MetricHistoryQuery = graphql(`
  query MetricHistory($runIds: [ID!]!, $keys: [String!], $maxPoints: Int, $minStep: Long, $maxStep: Long) {
    metricHistories(runIds: $runIds, keys: $keys, maxPoints: $maxPoints, minStep: $minStep, maxStep: $maxStep) {
      runId
      key
      steps
      values
      downsampled
      totalPoints
    }
  }
`);

export interface MetricChartsProps {
  runId: string;
  metrics: ReadonlyArray<{ key: string; value: WireMetricValue; step: number; count: number }>;
  params: URLSearchParams;
  onParamChange: (name: string, value: string | null) => void;
}

export function MetricCharts({ runId, metrics, params, onParamChange }: MetricChartsProps) {
  const [search, setSearch] = useUrlMirror(params.get('m') ?? '', (m) => onParamChange('m', m));
  const shown = metrics
    .filter((m) => m.key.toLowerCase().includes(search.trim().toLowerCase()))
    .sort((a, b) => a.key.localeCompare(b.key));
  // Decided once per page: the width a chart gets in the grid, in CSS pixels.
  const maxPoints = useMemo(() => pointsForWidth(Math.min(window.innerWidth - 80, 900)), []);

  if (metrics.length === 0) return <Empty>This run has no metrics yet.</Empty>;
  return (
    <div className="metrics-view">
      <input
        type="search"
        className="search-input"
        placeholder="Filter metrics"
        aria-label="Filter metrics"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      {shown.length === 0 ? <Empty>No metric matches “{search}”.</Empty> : null}
      <div className="chart-grid">
        {shown.map((m) => (
          <MetricPanel
            key={m.key}
            runId={runId}
            metricKey={m.key}
            latest={m.value}
            count={m.count}
            maxPoints={maxPoints}
            zoom={parseZoom(params.get(zoomParamName(m.key)))}
            onZoom={(range) => onParamChange(zoomParamName(m.key), formatZoom(range))}
          />
        ))}
      </div>
    </div>
  );
}

function MetricPanel(props: {
  runId: string;
  metricKey: string;
  latest: WireMetricValue;
  count: number;
  maxPoints: number;
  zoom: [number, number] | null;
  onZoom: (range: [number, number] | null) => void;
}) {
  const { runId, metricKey, zoom } = props;
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: MetricHistoryQuery,
    variables: {
      runIds: [runId],
      keys: [metricKey],
      maxPoints: props.maxPoints,
      minStep: zoom ? zoom[0] : null,
      maxStep: zoom ? zoom[1] : null,
    },
  });
  const series = data?.metricHistories.find((s) => s.key === metricKey && s.runId === runId) ?? null;

  // Keep drawing the previous series while a zoomed one loads, instead of flashing empty.
  const last = useRef<{ chart: ChartData; meta: { downsampled: boolean; totalPoints: number; shown: number } } | null>(null);
  const shaped = useMemo(() => {
    if (!series) return null;
    return {
      chart: toChartData([{ label: metricKey, steps: series.steps, values: series.values }]),
      meta: { downsampled: series.downsampled, totalPoints: series.totalPoints, shown: series.steps.length },
    };
  }, [series, metricKey]);
  if (shaped) last.current = shaped;
  const current = shaped ?? last.current;
  const [draws, setDraws] = useState(0);

  const nonFinite = current ? current.chart.nonFinite.reduce((a, b) => a + b, 0) : 0;
  return (
    <div
      className="panel chart-panel"
      data-testid="metric-panel"
      data-metric={metricKey}
      data-points={current?.meta.shown ?? 0}
      data-drawn={draws > 0 ? 'true' : 'false'}
      data-loading={fetching ? 'true' : 'false'}
    >
      <div className="chart-head">
        <h3>{metricKey}</h3>
        <span className="muted">latest {formatMetricValue(props.latest)}</span>
        {zoom ? (
          <button type="button" className="link-button" onClick={() => props.onZoom(null)}>
            Reset zoom ({zoom[0]}–{zoom[1]})
          </button>
        ) : null}
      </div>
      {error ? (
        <ErrorMessage error={error} title={`Could not load ${metricKey}`} onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
      ) : !current ? (
        <Loading label="Loading points…" />
      ) : current.chart.x.length === 0 ? (
        <Empty>No points{zoom ? ' in this step range' : ''}.</Empty>
      ) : (
        <>
          <MetricChart
            data={current.chart}
            xLabel="step"
            xRange={zoom}
            onXRangeChange={props.onZoom}
            onDraw={() => setDraws((n) => (n === 0 ? 1 : n))}
          />
          <p className="chart-caption muted">
            {current.meta.downsampled
              ? `${current.meta.shown.toLocaleString()} of ${current.meta.totalPoints.toLocaleString()} points (downsampled by the server; drag to zoom for detail)`
              : `${current.meta.shown.toLocaleString()} points`}
            {nonFinite > 0 ? ` · ${nonFinite} NaN/∞ value${nonFinite === 1 ? '' : 's'} not drawn` : ''}
            {fetching ? ' · loading…' : ''}
          </p>
        </>
      )}
    </div>
  );
}
