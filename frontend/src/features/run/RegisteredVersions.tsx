/**
 * The run page's "Registered model versions" box: the versions made from this run, with their
 * stage and aliases, each linked to its version page (lineage read from the run's side).
 */
import { Link } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../graphql/generated';
import { ErrorMessage } from '../../components/ui/QueryStates';
import { formatTimestamp } from '../../lib/format';
import { paths } from '../../lib/paths';

const RunModelVersionsQuery = graphql(`
  query RunModelVersions($id: ID!) {
    run(id: $id) {
      id
      modelVersions {
        name
        version
        stage
        aliases
        createdAt
      }
    }
  }
`);

export function RegisteredVersions({ runId }: { runId: string }) {
  const [result] = useQuery({ query: RunModelVersionsQuery, variables: { id: runId } });
  const versions = result.data?.run?.modelVersions ?? [];
  return (
    <div className="panel" data-testid="registered-versions">
      <h2>Registered model versions</h2>
      {result.error ? (
        <ErrorMessage error={result.error} title="Could not load the model versions" />
      ) : !result.data ? (
        <p className="muted">Loading…</p>
      ) : versions.length === 0 ? (
        <p className="muted">No model version was registered from this run.</p>
      ) : (
        <ul className="plain-list">
          {versions.map((v) => (
            <li key={`${v.name}/${v.version}`} data-version={`${v.name}/${v.version}`}>
              <Link to={paths.modelVersion(v.name, v.version)}>
                {v.name} version {v.version}
              </Link>{' '}
              <span className={`stage-badge stage-${v.stage.toLowerCase()}`}>{v.stage.charAt(0) + v.stage.slice(1).toLowerCase()}</span>
              {v.aliases.map((a) => (
                <span key={a} className="alias-badge">
                  @{a}
                </span>
              ))}{' '}
              <span className="muted">{formatTimestamp(v.createdAt)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
