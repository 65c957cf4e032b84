/**
 * Overlaid learning curves, one chart per metric, one line per run (or per group: the mean
 * with a min–max or ±std band). Histories come downsampled for the chart's width from one
 * request for every shown metric; dragging on a step axis zooms and asks the server again for
 * that range (finer min/max buckets). Lines grow live while a compared run is RUNNING. The
 * hover list shows every line's value at the cursor, sorted.
 */
import { useMemo, useRef, useState } from 'react';
import { MetricChart, type SeriesStyle } from '../../components/charts/MetricChart';
import { pointsForWidth, type ChartData } from '../../components/charts/chartData';
import { emaSmooth } from '../../components/charts/smoothing';
import { alignXY, toXY, type XAxisMode, type XYSeries } from '../../components/charts/xAxis';
import { Empty, ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { formatMetricValue } from '../../graphql/metricValues';
import { seriesId, type LiveSeries } from '../../graphql/liveSeries';
import { useLiveMetricHistories } from '../../graphql/useLiveMetricHistories';
import { runColour, translucent } from './colours';
import { groupRuns, groupStats } from './grouping';
import type { CompareView } from './compareView';
import type { ComparedRun } from './useCompareRuns';

const X_LABEL: Record<XAxisMode, string> = { step: 'step', wall: 'time', relative: 'seconds since start' };
/** Points drawn per chart at most, across all its lines. */
const POINT_BUDGET = 120_000;

export interface OverlayChartsProps {
  runs: readonly ComparedRun[];
  visible: readonly ComparedRun[];
  colours: ReadonlyMap<string, string>;
  metricKeys: readonly string[];
  view: CompareView;
  live: boolean;
  zoomOf: (key: string) => [number, number] | null;
  onZoom: (key: string, range: [number, number] | null) => void;
  onDrawn?: () => void;
}

export function OverlayCharts(props: OverlayChartsProps) {
  const { runs, metricKeys, live } = props;
  const width = Math.min(window.innerWidth - 80, 1100);
  // A single line gets two points per pixel (its min/max buckets show the noise); with many
  // lines overlaid, one per pixel each is all that can be seen and halves the transfer.
  const perPixel = runs.length > 4 ? 1 : 2;
  const maxPoints = Math.max(100, Math.min(Math.round((pointsForWidth(width) * perPixel) / 2), Math.floor(POINT_BUDGET / Math.max(1, runs.length))));
  const runIds = useMemo(() => runs.map((r) => r.id), [runs]);
  const keys = useMemo(() => [...metricKeys], [metricKeys]);
  const h = useLiveMetricHistories({ runIds, keys, maxPoints, live });
  const byId = useMemo(() => new Map(h.series.map((s) => [seriesId(s.runId, s.key), s])), [h.series, h.version]); // eslint-disable-line react-hooks/exhaustive-deps

  if (h.error) return <ErrorMessage error={h.error} title="Could not load the metric histories" onRetry={h.refetch} />;
  if (metricKeys.length === 0) return <Empty>No metric matches.</Empty>;
  return (
    <div className="chart-grid compare-charts" data-backfills={h.backfills}>
      {metricKeys.map((key) => {
        const zoom = props.view.x === 'step' ? props.zoomOf(key) : null;
        return zoom ? (
          <ZoomedOverlay key={key} {...props} metricKey={key} maxPoints={maxPoints} zoom={zoom} />
        ) : (
          <OverlayPanel
            key={key}
            {...props}
            metricKey={key}
            lookup={(runId) => byId.get(seriesId(runId, key))}
            version={h.version}
            loading={h.fetching}
            zoom={props.view.x === 'step' ? null : props.zoomOf(key)}
          />
        );
      })}
    </div>
  );
}

function ZoomedOverlay(props: OverlayChartsProps & { metricKey: string; maxPoints: number; zoom: [number, number] }) {
  const runIds = useMemo(() => props.runs.map((r) => r.id), [props.runs]);
  const keys = useMemo(() => [props.metricKey], [props.metricKey]);
  const h = useLiveMetricHistories({ runIds, keys, maxPoints: props.maxPoints, minStep: props.zoom[0], maxStep: props.zoom[1], live: props.live });
  const byRun = new Map(h.series.map((s) => [s.runId, s]));
  return <OverlayPanel {...props} lookup={(id) => byRun.get(id)} version={h.version} loading={h.fetching} zoom={props.zoom} />;
}

interface Line {
  label: string;
  colour: string;
  xy: XYSeries;
  role: 'run' | 'mean' | 'lower' | 'upper';
  width: number;
}

function OverlayPanel(props: OverlayChartsProps & {
  metricKey: string;
  lookup: (runId: string) => LiveSeries | undefined;
  version: number;
  loading: boolean;
  zoom: [number, number] | null;
}) {
  const { metricKey, visible, colours, view, lookup, version, zoom } = props;
  const [cursor, setCursor] = useState<{ idx: number; left: number } | null>(null);
  const [drawn, setDrawn] = useState(false);
  const wrap = useRef<HTMLDivElement>(null);

  const shaped = useMemo(() => {
    const lines: Line[] = [];
    let points = 0;
    let single = true;
    const xyOf = (run: ComparedRun): XYSeries | null => {
      const s = lookup(run.id);
      if (!s || s.steps.length === 0) return null;
      points += s.steps.length;
      if (s.steps.length > 1) single = false;
      const xy = toXY({ steps: s.steps, timestamps: s.timestamps, values: s.y }, view.x, run.startTime);
      if (view.logY) xy.y = xy.y.map((v) => (v !== null && v > 0 ? v : null));
      if (view.smoothing > 0) xy.y = emaSmooth(xy.y, view.smoothing);
      return xy;
    };
    if (view.groupBy) {
      const [kind, ...rest] = view.groupBy.split(':');
      const key = rest.join(':');
      const groups = groupRuns(visible, (r) => (kind === 'params' ? r.params.get(key) : r.tags.get(key)));
      let g = 0;
      for (const [value, ids] of groups) {
        const members = ids.flatMap((id) => {
          const run = visible.find((r) => r.id === id)!;
          const xy = xyOf(run);
          return xy ? [xy] : [];
        });
        const colour = runColour(g++);
        if (members.length === 0) continue;
        const stats = groupStats(members);
        const lo = view.band === 'std' ? stats.mean.map((m, i) => (m === null ? null : m - (stats.std[i] ?? 0))) : stats.min;
        const hi = view.band === 'std' ? stats.mean.map((m, i) => (m === null ? null : m + (stats.std[i] ?? 0))) : stats.max;
        const label = `${key}=${value} (${members.length})`;
        lines.push({ label, colour, xy: { x: stats.x, y: stats.mean }, role: 'mean', width: 2 });
        lines.push({ label: `${label} low`, colour, xy: { x: stats.x, y: lo }, role: 'lower', width: 0 });
        lines.push({ label: `${label} high`, colour, xy: { x: stats.x, y: hi }, role: 'upper', width: 0 });
      }
    } else {
      for (const run of visible) {
        const xy = xyOf(run);
        if (!xy) continue;
        const isBase = view.baseline === run.id;
        lines.push({ label: run.name, colour: colours.get(run.id) ?? '#999', xy, role: 'run', width: isBase ? 3.2 : view.baseline ? 1.2 : 1.6 });
      }
    }
    // The baseline is drawn last, on top of the others.
    const base = lines.findIndex((l) => l.role === 'run' && l.width > 3);
    if (base >= 0) lines.push(...lines.splice(base, 1));
    const aligned = alignXY(lines.map((l) => l.xy));
    const data: ChartData = { x: aligned.x, ys: aligned.ys, labels: lines.map((l, i) => `${l.label}\u0001${i}`), nonFinite: lines.map(() => 0) };
    const styles: SeriesStyle[] = lines.map((l) => ({ stroke: l.colour, width: l.width, bandEdge: l.role === 'lower' || l.role === 'upper' }));
    const bands = lines.flatMap((l, i) => (l.role === 'upper' ? [{ upper: i, lower: i - 1, fill: translucent(l.colour, 0.18) }] : []));
    return { lines, data, styles, bands, points, single };
    // `version` marks growth of the live arrays behind `lookup`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lookup, version, visible, colours, view.x, view.smoothing, view.logY, view.groupBy, view.band, view.baseline]);

  const hover = useMemo(() => {
    if (!cursor) return null;
    const rows: Array<{ label: string; colour: string; value: number }> = [];
    const x = shaped.data.x[cursor.idx] ?? 0;
    shaped.lines.forEach((l, k) => {
      if (l.role === 'lower' || l.role === 'upper') return;
      // A line that ended (or had not started) before the cursor has no value there.
      if (l.xy.x.length === 0 || x > (l.xy.x[l.xy.x.length - 1] as number) || x < (l.xy.x[0] as number)) return;
      const col = shaped.data.ys[k]!;
      // The nearest point of this line at or before the cursor (lines rarely share x values).
      let i = cursor.idx;
      while (i >= 0 && col[i] === undefined) i--;
      const v = i >= 0 ? col[i] : null;
      if (v !== null && v !== undefined) rows.push({ label: l.label, colour: l.colour, value: v });
    });
    rows.sort((a, b) => b.value - a.value);
    return { x: shaped.data.x[cursor.idx], rows };
  }, [cursor, shaped]);

  const lineCount = shaped.lines.filter((l) => l.role === 'run' || l.role === 'mean').length;
  const bandCount = shaped.bands.length;
  return (
    <div
      className="panel chart-panel overlay-panel"
      data-testid="overlay-panel"
      data-metric={metricKey}
      data-lines={lineCount}
      data-bands={bandCount}
      data-colours={shaped.lines.filter((l) => l.role === 'run' || l.role === 'mean').map((l) => l.colour).join(' ')}
      data-drawn={drawn ? 'true' : 'false'}
      data-points={shaped.points}
      data-loading={props.loading ? 'true' : 'false'}
    >
      <div className="chart-head">
        <h3>{metricKey}</h3>
        {zoom ? (
          <button type="button" className="link-button" onClick={() => props.onZoom(metricKey, null)}>
            Reset zoom
          </button>
        ) : null}
      </div>
      {shaped.lines.length === 0 ? (
        props.loading ? <Loading label="Loading points…" /> : <Empty>No points for the shown runs.</Empty>
      ) : shaped.single && !view.groupBy ? (
        <SingleValues lines={shaped.lines} />
      ) : (
        <div className="overlay-chart-wrap" ref={wrap} onMouseLeave={() => setCursor(null)}>
          <MetricChart
            data={shaped.data}
            xLabel={X_LABEL[view.x]}
            xRange={zoom}
            onXRangeChange={(r) => props.onZoom(metricKey, r)}
            styles={shaped.styles}
            bands={shaped.bands}
            logY={view.logY}
            xTime={view.x === 'wall'}
            continuousX={view.x !== 'step'}
            legend={false}
            height={260}
            onCursor={(idx, left) => setCursor(idx === null || left === null ? null : { idx, left })}
            onDraw={() => {
              if (!drawn) setDrawn(true);
              props.onDrawn?.();
            }}
          />
          {hover && hover.rows.length > 0 ? (
            <div
              className="hover-list"
              data-testid="hover-list"
              // Beside the cursor, on whichever side has room (the plot starts ~60 px in).
              style={cursor!.left < (wrap.current?.clientWidth ?? 800) / 2 - 60 ? { left: cursor!.left + 80 } : { right: (wrap.current?.clientWidth ?? 800) - cursor!.left - 40 }}
            >
              <div className="muted">
                {X_LABEL[view.x]} {view.x === 'wall' && hover.x !== undefined ? new Date(hover.x * 1000).toLocaleTimeString() : formatMetricValue(hover.x ?? null)}
              </div>
              {hover.rows.slice(0, 25).map((r, i) => (
                <div key={i} className="hover-row">
                  <span className="swatch" style={{ background: r.colour }} />
                  <span className="hover-name">{r.label}</span>
                  <span className="num">{formatMetricValue(r.value)}</span>
                </div>
              ))}
              {hover.rows.length > 25 ? <div className="muted">… {hover.rows.length - 25} more</div> : null}
            </div>
          ) : null}
        </div>
      )}
      {view.groupBy ? (
        <p className="chart-caption group-legend" data-testid="group-legend">
          {shaped.lines
            .filter((l) => l.role === 'mean')
            .map((l) => (
              <span key={l.label} className="legend-chip">
                <span className="swatch" style={{ background: l.colour }} />
                {l.label}
              </span>
            ))}
          <span className="muted"> · line: mean, band: {view.band === 'std' ? '± std' : 'min–max'}</span>
        </p>
      ) : null}
      <p className="chart-caption muted">
        {lineCount} line{lineCount === 1 ? '' : 's'} · {shaped.points.toLocaleString()} points
        {view.smoothing > 0 ? ` · smoothed (EMA ${view.smoothing})` : ''}
        {props.loading ? ' · loading…' : ''}
        {view.x === 'step' ? ' · drag to zoom (finer points from the server)' : ''}
      </p>
    </div>
  );
}

/** A metric logged once per run: its value per run, as a bar across the compared runs. */
function SingleValues({ lines }: { lines: readonly Line[] }) {
  const values = lines.map((l) => ({ l, v: l.xy.y[0] ?? null }));
  const finite = values.flatMap((x) => (x.v === null ? [] : [x.v]));
  const lo = Math.min(0, ...finite);
  const hi = Math.max(0, ...finite);
  return (
    <div className="single-values" data-testid="metric-summary">
      {values
        .slice()
        .sort((a, b) => (b.v ?? -Infinity) - (a.v ?? -Infinity))
        .map(({ l, v }) => (
          <div key={l.label} className="single-row">
            <span className="hover-name">
              <span className="swatch" style={{ background: l.colour }} /> {l.label}
            </span>
            <span className="bar-track">
              {v !== null && hi > lo ? (
                <span className="bar" style={{ left: `${((Math.min(v, 0) - lo) / (hi - lo)) * 100}%`, width: `${(Math.abs(v) / (hi - lo)) * 100}%`, background: l.colour }} />
              ) : null}
            </span>
            <span className="num">{formatMetricValue(v)}</span>
          </div>
        ))}
    </div>
  );
}
