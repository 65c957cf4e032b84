/**
 * The one React wrapper over uPlot. It takes ChartData (columnar, from toChartData), draws on a
 * canvas, and reports drag-to-zoom as an x-range instead of zooming itself: the owner decides
 * whether to ask the server for finer points in that range (and keeps the range in the URL).
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { stepRange, type ChartData } from './chartData';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

export interface MetricChartProps {
  data: ChartData;
  xLabel: string;
  /** The visible x-range; null shows everything. */
  xRange: [number, number] | null;
  onXRangeChange?: (range: [number, number] | null) => void;
  height?: number;
  /** Called after each canvas draw (tests and benchmarks wait on it). */
  onDraw?: () => void;
  /** x values are wall-clock seconds since the epoch: a time axis instead of steps. */
  xTime?: boolean;
  /** Draw lines across x values where a series has no point (series sampled at different
   * times, like system metrics of several machines), rather than breaking them. */
  spanGaps?: boolean;
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

export function MetricChart({ data, xLabel, xRange, onXRangeChange, height = 220, onDraw, xTime = false, spanGaps = false }: MetricChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // Callbacks change identity every render; uPlot hooks read the latest through refs.
  const onRange = useRef(onXRangeChange);
  onRange.current = onXRangeChange;
  const onDrawRef = useRef(onDraw);
  onDrawRef.current = onDraw;
  const rangeRef = useRef(xRange);
  rangeRef.current = xRange;

  const seriesKey = data.labels.join('\u0000');

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
      },
      axes: [{ label: xLabel }, { size: yAxisSize }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false, setScale: false } },
      series: [
        { label: xLabel },
        ...data.labels.map((label, i) => ({
          label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          spanGaps,
          points: { show: false },
        })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const range = stepRange(u.posToVal(u.select.left, 'x'), u.posToVal(u.select.left + u.select.width, 'x'));
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (range) onRange.current?.(range);
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
    // Rebuilt only when the set of series or the axis changes; data updates go through setData.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seriesKey, xLabel, height, xTime, spanGaps]);

  useEffect(() => {
    plot.current?.setData(toAligned(data), true);
  }, [data, xRange]);

  return <div ref={container} className="metric-chart" data-testid="metric-chart" />;
}
