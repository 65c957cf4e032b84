/** The diff of params, metric figures and tags across the compared runs; transposable. */
import { formatMetricValue } from '../../graphql/metricValues';
import { diffRows, transpose, visibleDiffRows } from '../../lib/diff';
import type { ComparedRun } from './useCompareRuns';

function text(v: string | number | null, metric: boolean): string {
  if (v === null) return '—';
  return metric ? formatMetricValue(v) : String(v);
}

export function DiffTable({ runs, colours, showAll, transposed, onShowAll, onTranspose }: {
  runs: readonly ComparedRun[];
  colours: ReadonlyMap<string, string>;
  showAll: boolean;
  transposed: boolean;
  onShowAll: (all: boolean) => void;
  onTranspose: (t: boolean) => void;
}) {
  const all = diffRows(runs.map((r) => ({ ...r, metrics: new Map(Array.from(r.metrics, ([k, m]) => [k, { latest: m.latest, min: m.min, max: m.max }])) })));
  const rows = visibleDiffRows(all, !showAll);
  const differing = all.filter((r) => r.differs).length;
  return (
    <section className="panel compare-section" data-testid="diff-table">
      <div className="section-head">
        <h2>Differences</h2>
        <label className="checkbox-label">
          <input type="checkbox" checked={!showAll} onChange={(e) => onShowAll(!e.target.checked)} /> Only what differs ({differing} of {all.length})
        </label>
        <label className="checkbox-label">
          <input type="checkbox" checked={transposed} onChange={(e) => onTranspose(e.target.checked)} /> Runs as rows
        </label>
      </div>
      {rows.length === 0 ? (
        <p className="muted">{all.length === 0 ? 'These runs have no params, metrics or tags.' : 'Nothing differs between these runs.'}</p>
      ) : (
        <div className="table-wrap">
          {transposed ? (
            (() => {
              const t = transpose(rows, runs.map((r) => r.name));
              return (
                <table className="data-table compact diff">
                  <thead>
                    <tr>
                      {t.header.map((h, i) => (
                        <th key={i}>{h}</th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {t.body.map((row, i) => (
                      <tr key={runs[i]!.id}>
                        {row.map((v, j) => (
                          <td key={j} className={j > 0 && rows[j - 1]!.section === 'metrics' ? 'num' : undefined}>
                            {j === 0 ? <Swatch colour={colours.get(runs[i]!.id)} /> : null}
                            {text(v, j > 0 && rows[j - 1]!.section === 'metrics')}
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              );
            })()
          ) : (
            <table className="data-table compact diff">
              <thead>
                <tr>
                  <th />
                  {runs.map((r) => (
                    <th key={r.id}>
                      <Swatch colour={colours.get(r.id)} />
                      {r.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={`${row.section}:${row.label}`} className={row.differs ? 'differs' : undefined} data-row={`${row.section}:${row.label}`}>
                    <th scope="row">
                      <span className="col-group">{row.section}</span> {row.label}
                    </th>
                    {row.values.map((v, i) => (
                      <td key={runs[i]!.id} className={row.section === 'metrics' ? 'num' : undefined}>
                        {text(v, row.section === 'metrics')}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}

export function Swatch({ colour }: { colour: string | undefined }) {
  return <span className="swatch" style={{ background: colour ?? '#999' }} aria-hidden="true" />;
}
