/**
 * The audit timeline of a model or a version: every change with who, when and the comment,
 * newest first, filterable by version and by kind (filters kept in the URL: tv, tk).
 */
import { useSearchParams } from 'react-router';
import { formatTimestamp } from '../../lib/format';
import { CHANGE_GROUP_LABELS, CHANGE_GROUPS, describeChange, filterTimeline, type Change, type ChangeGroup } from './registryRules';

export function Timeline({ changes, versions, fixedVersion = null }: {
  changes: readonly Change[];
  /** Version numbers offered in the version filter (none: no version filter). */
  versions?: readonly number[];
  /** Show only this version's changes, with no filter for it (the version page). */
  fixedVersion?: number | null;
}) {
  const [params, setParams] = useSearchParams();
  const tv = params.get('tv');
  const version = fixedVersion ?? (tv && /^\d+$/.test(tv) ? Number(tv) : null);
  const groups = new Set((params.get('tk') ?? '').split(',').filter((g): g is ChangeGroup => g in CHANGE_GROUPS));
  const shown = filterTimeline(changes, { version, groups });
  const update = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const toggle = (g: ChangeGroup) => {
    const next = new Set(groups);
    if (next.has(g)) next.delete(g);
    else next.add(g);
    update('tk', Array.from(next).join(',') || null);
  };
  return (
    <section className="panel timeline" data-testid="timeline">
      <div className="section-head">
        <h2>History</h2>
        {versions && fixedVersion === null ? (
          <label>
            Version{' '}
            <select aria-label="Filter by version" value={version ?? ''} onChange={(e) => update('tv', e.target.value || null)} data-testid="timeline-version">
              <option value="">all</option>
              {versions.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {(Object.keys(CHANGE_GROUPS) as ChangeGroup[]).map((g) => (
          <label key={g} className="checkbox-label">
            <input type="checkbox" checked={groups.has(g)} onChange={() => toggle(g)} data-group={g} /> {CHANGE_GROUP_LABELS[g]}
          </label>
        ))}
        <span className="muted">
          {shown.length} of {changes.length}
        </span>
      </div>
      {shown.length === 0 ? (
        <p className="muted">No change matches.</p>
      ) : (
        <ol className="timeline-list">
          {shown.map((c) => (
            <li key={c.id} data-kind={c.kind} data-change-id={c.id} className="timeline-entry">
              <time className="muted" dateTime={new Date(Number(c.timestamp)).toISOString()}>
                {formatTimestamp(c.timestamp)}
              </time>{' '}
              <strong className="timeline-user">{c.user}</strong> <span className="timeline-what">{describeChange(c)}</span>
              {c.comment ? <blockquote className="timeline-comment">{c.comment}</blockquote> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
