/**
 * One registered model: description (Markdown, editable), tags, the versions table (stage,
 * aliases, source run with its key metrics, created by/at), pending requests with approve and
 * reject, and the whole history as a timeline filterable by version and kind. Follows
 * `registryEvents` for the model, so changes made elsewhere appear without a reload.
 */
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../graphql/generated';
import { apiErrorMessage } from '../../graphql/errors';
import { formatMetricValue } from '../../graphql/metricValues';
import { ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { formatTimestamp } from '../../lib/format';
import { paths } from '../../lib/paths';
import { DescriptionEditor, RequestsPanel, TagsEditor } from './Actions';
import { AliasBadge, StageBadge } from './badges';
import { stageLabel } from './registryRules';
import { Timeline } from './Timeline';
import { useRegistryEvents } from './useRegistryEvents';

const ModelPageQuery = graphql(`
  query ModelPage($name: String!) {
    registeredModel(name: $name) {
      name
      description
      createdAt
      createdBy
      protectedStages
      protectedAliases
      tags {
        key
        value
      }
      aliases {
        alias
        version
      }
      versions {
        version
        stage
        aliases
        createdAt
        createdBy
        runId
        run {
          id
          name
          latestMetrics {
            key
            value
          }
        }
      }
      pendingRequests {
        id
        version
        stage
        alias
        status
        requestedBy
        requestedAt
        comment
        archiveExisting
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
        requestId
        user
        comment
        timestamp
      }
    }
  }
`);

const UpdateModelDescription = graphql(`
  mutation UpdateModelDescription($name: String!, $description: String!) {
    updateRegisteredModel(name: $name, description: $description) {
      name
      description
    }
  }
`);

const SetModelTag = graphql(`
  mutation SetModelTag($name: String!, $key: String!, $value: String!) {
    setRegisteredModelTag(name: $name, key: $key, value: $value) {
      key
      value
    }
  }
`);

const DeleteModelTag = graphql(`
  mutation DeleteModelTag($name: String!, $key: String!) {
    deleteRegisteredModelTag(name: $name, key: $key)
  }
`);

// The key metrics beside each version: a few, so the table stays readable.
const KEY_METRICS = 3;

export default function ModelPage() {
  const { name = '' } = useParams();
  const navigate = useNavigate();
  const [result, refetch] = useQuery({ query: ModelPageQuery, variables: { name } });
  const reload = () => refetch({ requestPolicy: 'network-only' });
  useRegistryEvents(name, reload);
  const [, updateDescription] = useMutation(UpdateModelDescription);
  const [, setTag] = useMutation(SetModelTag);
  const [, deleteTag] = useMutation(DeleteModelTag);
  const [pick, setPick] = useState<number[]>([]);

  if (result.error) return <ErrorMessage error={result.error} title={`Could not load the model ${name}`} />;
  if (!result.data) return <Loading />;
  const model = result.data.registeredModel;
  if (!model) return <ErrorMessage error={`NOT_FOUND: no registered model named ${name}`} />;
  const done = (r: { error?: Parameters<typeof apiErrorMessage>[0] }) => {
    if (r.error) return apiErrorMessage(r.error);
    reload();
    return null;
  };
  const togglePick = (v: number) => setPick((p) => (p.includes(v) ? p.filter((x) => x !== v) : [...p.slice(-1), v]));

  return (
    <div className="page model-page" data-testid="model-page">
      <div className="page-header">
        <div>
          <p className="crumbs">
            <Link to={paths.models()}>Models</Link> /
          </p>
          <h1>{model.name}</h1>
          <p className="muted">
            created by {model.createdBy} on {formatTimestamp(model.createdAt)}
            {model.protectedStages.length || model.protectedAliases.length
              ? ` · needs approval for ${[...model.protectedStages.map(stageLabel), ...model.protectedAliases.map((a) => `@${a}`)].join(', ')}`
              : ''}
          </p>
        </div>
      </div>
      <div className="registry-grid">
        <section className="panel">
          <h2>Description</h2>
          <DescriptionEditor value={model.description ?? null} onSave={async (text) => done(await updateDescription({ name, description: text }))} />
          <h2>Tags</h2>
          <TagsEditor
            tags={model.tags}
            onSet={async (key, value) => done(await setTag({ name, key, value }))}
            onDelete={async (key) => done(await deleteTag({ name, key }))}
          />
        </section>
        <RequestsPanel requests={model.pendingRequests} onDone={reload} />
      </div>
      <section className="panel">
        <div className="section-head">
          <h2>Versions</h2>
          <button type="button" disabled={pick.length !== 2} onClick={() => navigate(paths.compareVersions(name, pick[0]!, pick[1]!))} data-testid="compare-versions">
            Compare {pick.length === 2 ? `v${pick[0]} and v${pick[1]}` : 'two versions'}
          </button>
        </div>
        <table className="data-table" data-testid="versions-table">
          <thead>
            <tr>
              <th />
              <th>Version</th>
              <th>Stage</th>
              <th>Aliases</th>
              <th>Source run</th>
              <th>Key metrics</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {model.versions.map((v) => (
              <tr key={v.version} data-version={v.version}>
                <td>
                  <input type="checkbox" aria-label={`Pick version ${v.version} to compare`} checked={pick.includes(v.version)} onChange={() => togglePick(v.version)} />
                </td>
                <td>
                  <Link to={paths.modelVersion(name, v.version)} className="version-link">
                    Version {v.version}
                  </Link>
                </td>
                <td>
                  <StageBadge stage={v.stage} />
                </td>
                <td>
                  {v.aliases.map((a) => (
                    <AliasBadge key={a} alias={a} />
                  ))}
                </td>
                <td>{v.run ? <Link to={paths.run(v.run.id)}>{v.run.name || v.run.id.slice(0, 8)}</Link> : <span className="muted">{v.runId ? 'run deleted' : '—'}</span>}</td>
                <td className="mono">
                  {v.run?.latestMetrics
                    .slice(0, KEY_METRICS)
                    .map((m) => `${m.key} ${formatMetricValue(m.value)}`)
                    .join(' · ')}
                </td>
                <td>
                  {v.createdBy}
                  <div className="muted">{formatTimestamp(v.createdAt)}</div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Timeline changes={model.history} versions={model.versions.map((v) => v.version)} />
    </div>
  );
}
