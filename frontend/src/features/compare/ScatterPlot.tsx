/**
 * Any param or metric against any other, one dot per run, coloured by a third field (a
 * gradient for numbers, the palette for categories) or by the run's own colour.
 */
import { axisPosition, axisTicks, buildAxis } from './axes';
import { runColour } from './colours';
import { fieldLabel, fieldOptions, fieldValue } from './fields';
import type { ComparedRun } from './useCompareRuns';

const W = 640;
const H = 380;
const PAD = { top: 16, right: 20, bottom: 44, left: 70 };

function gradient(p: number): string {
  // From blue (low) to orange (high), through grey.
  const lo = [37, 99, 235];
  const hi = [234, 88, 12];
  const c = lo.map((l, i) => Math.round(l + (hi[i]! - l) * p));
  return `rgb(${c.join(',')})`;
}

export function ScatterPlot({ runs, colours, x, y, colour, onChange }: {
  runs: readonly ComparedRun[];
  colours: ReadonlyMap<string, string>;
  x: string | null;
  y: string | null;
  colour: string | null;
  onChange: (patch: { scatterX?: string | null; scatterY?: string | null; scatterColour?: string | null }) => void;
}) {
  const options = fieldOptions(runs);
  const xf = x ?? options.find((o) => o.group === 'Params')?.id ?? options[0]?.id ?? null;
  const yf = y ?? options.find((o) => o.group === 'Metrics')?.id ?? options[1]?.id ?? null;
  const select = (label: string, value: string | null, onPick: (v: string | null) => void, allowNone = false) => (
    <label className="inline-field">
      {label}{' '}
      <select value={value ?? ''} onChange={(e) => onPick(e.target.value || null)} aria-label={`Scatter ${label}`}>
        {allowNone ? <option value="">run colour</option> : null}
        {options.map((o) => (
          <option key={o.id} value={o.id}>
            {o.group}: {o.label}
          </option>
        ))}
      </select>
    </label>
  );
  const xAxis = xf ? buildAxis(runs.map((r) => fieldValue(r, xf))) : null;
  const yAxis = yf ? buildAxis(runs.map((r) => fieldValue(r, yf))) : null;
  const cAxis = colour ? buildAxis(runs.map((r) => fieldValue(r, colour))) : null;
  const px = (p: number) => PAD.left + p * (W - PAD.left - PAD.right);
  const py = (p: number) => PAD.top + (1 - p) * (H - PAD.top - PAD.bottom);
  return (
    <section className="panel compare-section" data-testid="scatter">
      <div className="section-head">
        <h2>Scatter</h2>
        {select('x', xf, (v) => onChange({ scatterX: v }))}
        {select('y', yf, (v) => onChange({ scatterY: v }))}
        {select('colour', colour, (v) => onChange({ scatterColour: v }), true)}
      </div>
      {!xAxis || !yAxis ? (
        <p className="muted">These runs have no params or metrics to plot.</p>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} className="scatter-svg" role="img" aria-label="Scatter plot">
          <line x1={px(0)} x2={px(1)} y1={py(0) + 8} y2={py(0) + 8} stroke="#98a2b3" />
          <line x1={px(0) - 8} x2={px(0) - 8} y1={py(0)} y2={py(1)} stroke="#98a2b3" />
          {axisTicks(xAxis).map((t) => (
            <text key={`x${t.label}${t.position}`} x={px(t.position)} y={py(0) + 24} textAnchor="middle" className="pc-tick">
              {t.label}
            </text>
          ))}
          {axisTicks(yAxis).map((t) => (
            <text key={`y${t.label}${t.position}`} x={px(0) - 12} y={py(t.position) + 4} textAnchor="end" className="pc-tick">
              {t.label}
            </text>
          ))}
          <text x={(px(0) + px(1)) / 2} y={H - 4} textAnchor="middle" className="pc-axis-label">
            {fieldLabel(xf!)}
          </text>
          <text x={12} y={(py(0) + py(1)) / 2} textAnchor="middle" className="pc-axis-label" transform={`rotate(-90 12 ${(py(0) + py(1)) / 2})`}>
            {fieldLabel(yf!)}
          </text>
          {runs.map((r) => {
            const a = axisPosition(xAxis, fieldValue(r, xf!));
            const b = axisPosition(yAxis, fieldValue(r, yf!));
            if (a === null || b === null) return null;
            let fill = colours.get(r.id) ?? '#999';
            if (cAxis && colour) {
              const c = axisPosition(cAxis, fieldValue(r, colour));
              fill = c === null ? '#d0d5dd' : cAxis.kind === 'numeric' ? gradient(c) : runColour(cAxis.categories.indexOf(String(fieldValue(r, colour))));
            }
            // Jitter categorical positions a little so equal values stay visible.
            const j = (xAxis.kind === 'categorical' ? ((r.id.charCodeAt(0) % 7) - 3) * 2 : 0);
            return (
              <circle key={r.id} cx={px(a) + j} cy={py(b)} r={5} fill={fill} stroke="#fff" strokeWidth={1} data-run-id={r.id}>
                <title>
                  {r.name}: {String(fieldValue(r, xf!))}, {String(fieldValue(r, yf!))}
                  {colour ? `, ${String(fieldValue(r, colour))}` : ''}
                </title>
              </circle>
            );
          })}
        </svg>
      )}
      {cAxis && colour ? (
        <p className="muted chart-caption">
          colour: {fieldLabel(colour)}{' '}
          {cAxis.kind === 'numeric'
            ? `(blue ${axisTicks(cAxis)[0]?.label} → orange ${axisTicks(cAxis).at(-1)?.label})`
            : cAxis.categories.map((c, i) => (
                <span key={c} className="legend-chip">
                  <span className="swatch" style={{ background: runColour(i) }} /> {c}
                </span>
              ))}
        </p>
      ) : null}
    </section>
  );
}
