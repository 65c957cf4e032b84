/**
 * Models: every registered model with its latest version per stage, its aliases, the last
 * change (who, when) and its pending approval requests; search by name and tag. Follows
 * `registryEvents` for all models, so a transition made elsewhere shows without a reload.
 * URL state: q (the search box).
 */
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { graphql } from '../../graphql/generated';
import { Empty, ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { formatRelative, formatTimestamp } from '../../lib/format';
import { paths } from '../../lib/paths';
import { AliasBadge, StageBadge } from './badges';
import { describeChange, modelsFilter } from './registryRules';
import { useRegistryEvents } from './useRegistryEvents';

const ModelsListQuery = graphql(`
  query ModelsList($filter: String) {
    registeredModels(filter: $filter, first: 500) {
      nodes {
        name
        updatedAt
        tags {
          key
          value
        }
        aliases {
          alias
          version
        }
        latestVersions {
          version
          stage
        }
        pendingRequests {
          id
          version
          stage
          alias
          requestedBy
        }
        history {
          id
          kind
          version
          fromStage
          toStage
          alias
          fromVersion
          toVersion
          user
          timestamp
        }
      }
    }
  }
`);

export default function ModelsPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [draft, setDraft] = useState(q);
  const [result, refetch] = useQuery({ query: ModelsListQuery, variables: { filter: modelsFilter(q) } });
  useRegistryEvents(null, () => refetch({ requestPolicy: 'network-only' }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setParams(draft.trim() ? { q: draft.trim() } : {}, { replace: true });
  };

  return (
    <div className="page models-page">
      <div className="page-header">
        <div>
          <h1>Models</h1>
          <p className="muted">Registered models: what serves each stage, where aliases point, and what waits for approval.</p>
        </div>
        <form onSubmit={submit} className="search-form">
          <input
            type="search"
            aria-label="Search models"
            placeholder="name, or tag key=value"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            data-testid="models-search"
          />
          <button type="submit">Search</button>
        </form>
      </div>
      {result.error ? (
        <ErrorMessage error={result.error} title="Could not load the models" />
      ) : !result.data ? (
        <Loading />
      ) : result.data.registeredModels.nodes.length === 0 ? (
        <Empty>{q ? `No model matches "${q}".` : 'No registered models yet: register one with run.log_model(…, registered_model_name=…) or mltrail.register_model.'}</Empty>
      ) : (
        <table className="data-table" data-testid="models-table">
          <thead>
            <tr>
              <th>Model</th>
              <th>Latest per stage</th>
              <th>Aliases</th>
              <th>Last change</th>
              <th>Pending requests</th>
            </tr>
          </thead>
          <tbody>
            {result.data.registeredModels.nodes.map((m) => {
              const last = m.history[m.history.length - 1];
              return (
                <tr key={m.name} data-model={m.name}>
                  <td>
                    <Link to={paths.model(m.name)} className="model-link">
                      {m.name}
                    </Link>
                    <div className="tag-list">
                      {m.tags.map((t) => (
                        <span key={t.key} className="tag-chip">
                          {t.key}={t.value}
                        </span>
                      ))}
                    </div>
                  </td>
                  <td data-testid="latest-per-stage">
                    {m.latestVersions.length === 0 ? <span className="muted">—</span> : null}
                    {m.latestVersions.map((v) => (
                      <Link key={v.version} to={paths.modelVersion(m.name, v.version)} className="stage-cell" data-version={v.version}>
                        <StageBadge stage={v.stage} /> v{v.version}
                      </Link>
                    ))}
                  </td>
                  <td>
                    {m.aliases.map((a) => (
                      <span key={a.alias} className="alias-cell">
                        <AliasBadge alias={a.alias} /> v{a.version}
                      </span>
                    ))}
                  </td>
                  <td data-testid="last-change">
                    {last ? (
                      <>
                        <strong>{last.user}</strong> {describeChange(last)}
                        <div className="muted" title={formatTimestamp(last.timestamp)}>
                          {formatRelative(last.timestamp)}
                        </div>
                      </>
                    ) : (
                      <span className="muted">{formatRelative(m.updatedAt)}</span>
                    )}
                  </td>
                  <td data-testid="pending-requests">
                    {m.pendingRequests.length === 0 ? (
                      <span className="muted">none</span>
                    ) : (
                      <span className="badge badge-warn">
                        {m.pendingRequests.length} pending: {m.pendingRequests.map((r) => `v${r.version} → ${r.stage ?? `@${r.alias}`} (${r.requestedBy})`).join(', ')}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
