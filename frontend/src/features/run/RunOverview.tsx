/**
 * The run's overview panel: status and timing, who ran it, the code version and entry point,
 * the environment captured at start, the datasets it consumed, and (for a run `mltrail run`
 * launched) the command that reproduces it with links to the original and its rerun.
 */
import { Link } from 'react-router';
import { graphql, getFragmentData, type FragmentType } from '../../graphql/generated';
import { StatusBadge } from '../../components/ui/StatusBadge';
import { formatDuration, formatTimestamp } from '../../lib/format';
import { paths } from '../../lib/paths';
import { projectLaunch } from './projectLaunch';
import { longToNumber, optionalLongToNumber } from '../../graphql/longs';

export const RunOverviewFields = graphql(`
  fragment RunOverviewFields on Run {
    id
    status
    startTime
    endTime
    duration
    user
    artifactUri
    source {
      entryPoint
      gitCommit
      gitBranch
      gitDirty
      gitRemote
    }
    environment
    tags {
      key
      value
    }
    inputs {
      name
      digest
      source
      sourceType
      context
    }
  }
`);

export function RunOverview(props: { run: FragmentType<typeof RunOverviewFields> }) {
  const run = getFragmentData(RunOverviewFields, props.run);
  const startTime = longToNumber(run.startTime);
  const endTime = optionalLongToNumber(run.endTime);
  const duration =
    run.duration != null ? longToNumber(run.duration) : (endTime != null ? endTime - startTime : Date.now() - startTime);
  const env = environmentEntries(run.environment);
  const launch = projectLaunch(run.id, run.tags);
  return (
    <div className="panel run-overview" data-testid="run-overview">
      <h2>Overview</h2>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={run.status} />
        </dd>
        <dt>Started</dt>
        <dd>{formatTimestamp(startTime)}</dd>
        <dt>Ended</dt>
        <dd>{endTime != null ? formatTimestamp(endTime) : '—'}</dd>
        <dt>Duration</dt>
        <dd>
          {formatDuration(duration)}
          {run.endTime == null && run.status === 'RUNNING' ? ' (so far)' : ''}
        </dd>
        <dt>User</dt>
        <dd>{run.user ?? '—'}</dd>
        <dt>Git commit</dt>
        <dd className="mono">
          {run.source?.gitCommit ?? '—'}
          {run.source?.gitDirty ? <span className="badge badge-warn" title="Uncommitted changes when the run started">dirty</span> : null}
        </dd>
        <dt>Branch</dt>
        <dd>{run.source?.gitBranch ?? '—'}</dd>
        <dt>Remote</dt>
        <dd className="mono">{run.source?.gitRemote ?? '—'}</dd>
        <dt>Source</dt>
        <dd className="mono">{run.source?.entryPoint ?? '—'}</dd>
        <dt>Artifacts</dt>
        <dd className="mono">{run.artifactUri}</dd>
      </dl>
      {launch ? (
        <section className="reproduce" data-testid="run-reproduce">
          <h3>Reproduce</h3>
          {launch.reproduce ? <pre className="mono">{launch.reproduce}</pre> : null}
          {launch.reproduce && run.source?.gitDirty ? (
            <p className="muted">The working tree had uncommitted changes: this line runs the commit without them.</p>
          ) : null}
          <pre className="mono">{launch.rerun}</pre>
          {launch.rerunOf ? (
            <p>
              Rerun of <Link to={paths.run(launch.rerunOf)} className="mono">{launch.rerunOf}</Link>
            </p>
          ) : null}
          {launch.lastRerun ? (
            <p>
              Rerun as <Link to={paths.run(launch.lastRerun)} className="mono">{launch.lastRerun}</Link>
            </p>
          ) : null}
        </section>
      ) : null}
      <h3>Environment</h3>
      {env.length === 0 ? (
        <p className="muted">No environment was captured.</p>
      ) : (
        <dl className="facts env-facts">
          {env.map(([k, v]) => (
            <div key={k} className="fact">
              <dt>{k}</dt>
              <dd className="mono">{v}</dd>
            </div>
          ))}
        </dl>
      )}
      <h3>Datasets</h3>
      {run.inputs.length === 0 ? (
        <p className="muted">No dataset inputs were logged.</p>
      ) : (
        <table className="data-table compact">
          <thead>
            <tr>
              <th>Name</th>
              <th>Context</th>
              <th>Digest</th>
              <th>Source</th>
            </tr>
          </thead>
          <tbody>
            {run.inputs.map((d) => (
              <tr key={`${d.name}@${d.digest}:${d.context ?? ''}`}>
                <td>{d.name}</td>
                <td>{d.context ?? ''}</td>
                <td className="mono">{d.digest}</td>
                <td className="mono">
                  {d.sourceType ? `${d.sourceType}: ` : ''}
                  {d.source ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Flattens the environment JSON one level for display; long package lists are summarised. */
export function environmentEntries(env: unknown): Array<[string, string]> {
  if (env === null || env === undefined) return [];
  if (typeof env !== 'object' || Array.isArray(env)) return [['value', JSON.stringify(env)]];
  return Object.entries(env as Record<string, unknown>).map(([k, v]) => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return [k, String(v)];
    if (Array.isArray(v)) return [k, v.length > 12 ? `${v.slice(0, 12).map(String).join(', ')} … (${v.length})` : v.map(String).join(', ')];
    if (v && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      const text = entries.slice(0, 12).map(([a, b]) => `${a}==${String(b)}`).join(', ');
      return [k, entries.length > 12 ? `${text} … (${entries.length})` : text];
    }
    return [k, String(v)];
  });
}
