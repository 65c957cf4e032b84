/**
 * Parallel coordinates over chosen params and metrics (SVG: at most a hundred lines). Numeric
 * fields get numeric axes, others categorical ones. Drag along an axis to brush it: the runs
 * outside every brush turn grey and the count says how many are left; a click on an axis
 * clears its brush.
 */
import { useMemo, useRef, useState } from 'react';
import { axisPosition, axisTicks, brushedRuns, buildAxis, type Axis, type Brush } from './axes';
import { fieldLabel, fieldOptions, fieldValue } from './fields';
import type { ComparedRun } from './useCompareRuns';

const WIDTH = 1000;
const HEIGHT = 320;
const PAD = { top: 36, bottom: 24, left: 60, right: 60 };

export function ParallelCoordinates({ runs, colours, axesIds, onAxesChange, onKeepOnly }: {
  runs: readonly ComparedRun[];
  colours: ReadonlyMap<string, string>;
  axesIds: readonly string[];
  onAxesChange: (ids: string[]) => void;
  onKeepOnly: (ids: string[]) => void;
}) {
  const [brushes, setBrushes] = useState<Map<string, Brush>>(new Map());
  const [dragging, setDragging] = useState<{ axis: string; from: number; to: number } | null>(null);
  const svg = useRef<SVGSVGElement>(null);

  const axes = useMemo(() => new Map<string, Axis>(axesIds.map((id) => [id, buildAxis(runs.map((r) => fieldValue(r, id)))])), [axesIds, runs]);
  const values = useMemo(() => runs.map((r) => ({ id: r.id, values: new Map(axesIds.map((id) => [id, fieldValue(r, id)])) })), [runs, axesIds]);
  const active = useMemo(() => {
    const b = new Map(brushes);
    if (dragging && Math.abs(dragging.to - dragging.from) > 0.01) b.set(dragging.axis, { lo: dragging.from, hi: dragging.to });
    return b;
  }, [brushes, dragging]);
  const kept = useMemo(() => brushedRuns(values, axes, active), [values, axes, active]);

  const xOf = (i: number) => PAD.left + (axesIds.length === 1 ? 0.5 : i / (axesIds.length - 1)) * (WIDTH - PAD.left - PAD.right);
  const yOf = (p: number) => PAD.top + (1 - p) * (HEIGHT - PAD.top - PAD.bottom);
  const posOfEvent = (e: React.PointerEvent) => {
    const rect = svg.current!.getBoundingClientRect();
    const y = ((e.clientY - rect.top) / rect.height) * HEIGHT;
    return Math.min(1, Math.max(0, 1 - (y - PAD.top) / (HEIGHT - PAD.top - PAD.bottom)));
  };

  const options = fieldOptions(runs);
  return (
    <section className="panel compare-section" data-testid="parallel-coordinates">
      <div className="section-head">
        <h2>Parallel coordinates</h2>
        <span className="muted" data-testid="pc-selection" data-kept={kept.size}>
          {kept.size} of {runs.length} runs{active.size > 0 ? ' in the brushed ranges' : ''}
        </span>
        {active.size > 0 ? (
          <>
            <button type="button" className="link-button" onClick={() => setBrushes(new Map())}>
              clear brushes
            </button>
            {kept.size >= 2 ? (
              <button type="button" className="link-button" onClick={() => onKeepOnly(runs.filter((r) => kept.has(r.id)).map((r) => r.id))}>
                compare only these
              </button>
            ) : null}
          </>
        ) : null}
        <details className="axis-chooser">
          <summary>Axes ({axesIds.length})</summary>
          <div className="axis-chooser-body">
            {options.map((o) => (
              <label key={o.id} className="checkbox-label">
                <input
                  type="checkbox"
                  checked={axesIds.includes(o.id)}
                  onChange={(e) => onAxesChange(e.target.checked ? [...axesIds, o.id] : axesIds.filter((a) => a !== o.id))}
                />
                <span className="col-group">{o.group}</span> {o.label}
              </label>
            ))}
          </div>
        </details>
      </div>
      {axesIds.length < 2 ? (
        <p className="muted">Choose at least two axes.</p>
      ) : (
        <svg ref={svg} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} className="pc-svg" role="img" aria-label="Parallel coordinates">
          {runs.map((r) => {
            const pts = axesIds.map((id, i) => {
              const p = axisPosition(axes.get(id)!, fieldValue(r, id));
              return p === null ? null : `${xOf(i)},${yOf(p)}`;
            });
            // A run lacking a field joins its other axes directly.
            const on = kept.has(r.id);
            return (
              <polyline
                key={r.id}
                points={pts.filter((p) => p !== null).join(' ')}
                fill="none"
                stroke={on ? colours.get(r.id) : '#d0d5dd'}
                strokeWidth={on ? 1.8 : 1}
                opacity={on ? 0.9 : 0.5}
                data-run-id={r.id}
                data-kept={on ? 'true' : 'false'}
              >
                <title>{r.name}</title>
              </polyline>
            );
          })}
          {axesIds.map((id, i) => {
            const axis = axes.get(id)!;
            const x = xOf(i);
            const b = active.get(id);
            return (
              <g key={id} className="pc-axis" data-axis={id}>
                <line x1={x} x2={x} y1={yOf(0)} y2={yOf(1)} stroke="#475467" />
                <text x={x} y={PAD.top - 18} textAnchor="middle" className="pc-axis-label">
                  {fieldLabel(id)}
                </text>
                {axisTicks(axis).map((t) => (
                  <text key={t.label + t.position} x={x - 6} y={yOf(t.position) + 4} textAnchor="end" className="pc-tick">
                    {t.label}
                  </text>
                ))}
                {b ? (
                  <rect x={x - 8} width={16} y={yOf(Math.max(b.lo, b.hi))} height={Math.abs(yOf(b.lo) - yOf(b.hi))} className="pc-brush" />
                ) : null}
                {/* The hit area of the axis: drag to brush, click to clear. */}
                <rect
                  x={x - 14}
                  width={28}
                  y={yOf(1) - 6}
                  height={yOf(0) - yOf(1) + 12}
                  fill="transparent"
                  style={{ cursor: 'ns-resize' }}
                  data-testid={`pc-axis-${id}`}
                  onPointerDown={(e) => {
                    (e.target as Element).setPointerCapture(e.pointerId);
                    const p = posOfEvent(e);
                    setDragging({ axis: id, from: p, to: p });
                  }}
                  onPointerMove={(e) => {
                    if (dragging?.axis === id) setDragging({ ...dragging, to: posOfEvent(e) });
                  }}
                  onPointerUp={() => {
                    if (!dragging) return;
                    const next = new Map(brushes);
                    if (Math.abs(dragging.to - dragging.from) > 0.01) next.set(id, { lo: Math.min(dragging.from, dragging.to), hi: Math.max(dragging.from, dragging.to) });
                    else next.delete(id);
                    setBrushes(next);
                    setDragging(null);
                  }}
                />
              </g>
            );
          })}
        </svg>
      )}
    </section>
  );
}
