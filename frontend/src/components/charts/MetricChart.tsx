/**
 * The one React wrapper over uPlot. It takes ChartData (columnar, from toChartData or alignXY),
 * draws on a canvas, and reports drag-to-zoom as an x-range instead of zooming itself: the owner
 * decides whether to ask the server for finer points in that range (and keeps the range in the
 * URL). New data for the same series goes through setData on the existing plot — appending live
 * points never rebuilds the chart. Overlays (the compare view) pass per-series styles, min–max
 * bands, a log scale, a time axis and a cursor callback for their own sorted hover list.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { stepRange, type ChartData } from './chartData';

export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

export interface SeriesStyle {
  stroke: string;
  width?: number;
  /** A band edge: drawn as the fill between it and its partner, no line of its own. */
  bandEdge?: boolean;
}

export interface MetricChartProps {
  data: ChartData;
  xLabel: string;
  /** The visible x-range; null shows everything. */
  xRange: [number, number] | null;
  onXRangeChange?: (range: [number, number] | null) => void;
  height?: number;
  /** Called after each canvas draw (tests and benchmarks wait on it). */
  onDraw?: () => void;
  /** Per-series styles (default: the palette in order). */
  styles?: readonly SeriesStyle[];
  /** Fills between two series (indexes into data.ys), e.g. a group's max and min. */
  bands?: ReadonlyArray<{ upper: number; lower: number; fill: string }>;
  logY?: boolean;
  /** x values are wall-clock seconds since the epoch: a time axis instead of steps. */
  xTime?: boolean;
  /** Draw lines across x values where a series has no point (series sampled at different
   * times, like system metrics of several machines), rather than breaking them. */
  spanGaps?: boolean;
  /** Zoom x-ranges as they are (time axes) instead of whole steps. */
  continuousX?: boolean;
  /** uPlot's own legend (off when the owner draws one). */
  legend?: boolean;
  /** The data index under the cursor (null when it leaves). */
  onCursor?: (index: number | null, left: number | null) => void;
}

/** The y-axis grows to its widest tick label: uPlot's fixed 50 px cuts "20,000" to "0,000". */
function yAxisSize(u: uPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  // After init uPlot keeps the axis font as [css font, px] and the last size as _size.
  const axis = u.axes[axisIdx] as uPlot.Axis & { _size?: number; font?: unknown };
  if (cycleNum > 1 && axis._size) return axis._size; // settle: labels do not change on re-layout
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), '');
  if (!longest) return 50;
  if (Array.isArray(axis.font) && typeof axis.font[0] === 'string') u.ctx.font = axis.font[0];
  return Math.max(50, Math.ceil(u.ctx.measureText(longest).width / devicePixelRatio) + 20);
}

function toAligned(data: ChartData): uPlot.AlignedData {
  return [data.x, ...data.ys] as unknown as uPlot.AlignedData;
}

export function MetricChart({
  data,
  xLabel,
  xRange,
  onXRangeChange,
  height = 220,
  onDraw,
  styles,
  bands,
  logY = false,
  xTime = false,
  spanGaps = false,
  continuousX = false,
  legend = true,
  onCursor,
}: MetricChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Callbacks change identity every render; uPlot hooks read the latest through refs.
  const onRange = useRef(onXRangeChange);
  onRange.current = onXRangeChange;
  const onDrawRef = useRef(onDraw);
  onDrawRef.current = onDraw;
  const onCursorRef = useRef(onCursor);
  onCursorRef.current = onCursor;
  const rangeRef = useRef(xRange);
  rangeRef.current = xRange;

  const seriesKey = data.labels.join('\u0000');
  const styleKey = JSON.stringify([styles ?? null, bands ?? null]);

  useEffect(() => {
    const el = container.current;
    if (!el) return undefined;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: {
        x: {
          time: xTime,
          range: (_u, min, max) => {
            const r = rangeRef.current;
            return r ? [r[0], r[1]] : [min, max];
          },
        },
        ...(logY ? { y: { distr: 3 as const } } : {}),
      },
      axes: [{ label: xLabel }, { size: yAxisSize }],
      legend: { show: legend, live: true },
      cursor: { drag: { x: true, y: false, setScale: false } },
      series: [
        { label: xLabel },
        ...data.labels.map((label, i) => {
          const style = styles?.[i];
          return {
            label,
            stroke: style?.bandEdge ? 'transparent' : (style?.stroke ?? PALETTE[i % PALETTE.length]),
            width: style?.bandEdge ? 0 : (style?.width ?? 1.5),
            spanGaps,
            points: { show: false },
          };
        }),
      ],
      bands: bands?.map((b) => ({ series: [b.upper + 1, b.lower + 1] as [number, number], fill: b.fill })),
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            const range = continuousX ? (Number.isFinite(a) && Number.isFinite(b) && b > a ? ([a, b] as [number, number]) : null) : stepRange(a, b);
            if (range) onRange.current?.(range);
          },
        ],
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            onCursorRef.current?.(idx ?? null, u.cursor.left != null && u.cursor.left >= 0 ? u.cursor.left : null);
          },
        ],
        draw: [() => onDrawRef.current?.()],
      },
    };
    const u = new uPlot(opts, toAligned(data), el);
    plot.current = u;
    const reset = () => onRange.current?.(null);
    u.over.addEventListener('dblclick', reset);
    const resize = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (width !== u.width) u.setSize({ width, height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.over.removeEventListener('dblclick', reset);
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of series, their styles or the axes change; data updates go
    // through setData.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seriesKey, styleKey, xLabel, height, logY, xTime, spanGaps, legend, continuousX]);

  useEffect(() => {
    plot.current?.setData(toAligned(data), true);
  }, [data, xRange]);

  return <div ref={container} className="metric-chart" data-testid="metric-chart" />;
}
