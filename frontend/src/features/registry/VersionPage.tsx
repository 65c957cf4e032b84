/**
 * One model version: its stage and aliases with the actions on them, lineage to the run
 * (params, metrics, git commit, datasets, a link), the model's signature, input example and
 * requirements (read from the model directory through the artifact route), "which version held
 * a stage or alias at a given time", pending requests, and the version's own timeline.
 */
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useClient, useMutation, useQuery } from 'urql';
import { graphql } from '../../graphql/generated';
import { apiErrorMessage } from '../../graphql/errors';
import { formatMetricValue } from '../../graphql/metricValues';
import { ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { formatTimestamp } from '../../lib/format';
import { paths } from '../../lib/paths';
import { AliasForm, DescriptionEditor, RequestsPanel, TagsEditor, TransitionForm } from './Actions';
import { AliasBadge, StageBadge } from './badges';
import { mlmodelSignature, parseLocalDateTime, runSource, stageLabel, STAGES, versionAtSentence, type SignatureColumn, type Stage } from './registryRules';
import { Timeline } from './Timeline';
import { useArtifactText } from './useArtifactText';
import { useRegistryEvents } from './useRegistryEvents';

const VersionPageQuery = graphql(`
  query VersionPage($name: String!, $version: Int!) {
    registeredModel(name: $name) {
      name
      protectedStages
      protectedAliases
      aliases {
        alias
        version
      }
      versions {
        version
        stage
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
    }
    modelVersion(name: $name, version: $version) {
      name
      version
      stage
      source
      runId
      gitCommit
      description
      createdAt
      createdBy
      aliases
      tags {
        key
        value
      }
      datasets {
        name
        digest
        source
        sourceType
        context
      }
      run {
        id
        name
        status
        params {
          key
          value
        }
        latestMetrics {
          key
          value
          step
        }
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

const VersionAtQuery = graphql(`
  query VersionAt($name: String!, $time: Long!, $stage: Stage, $alias: String) {
    registeredModel(name: $name) {
      name
      versionAt(time: $time, stage: $stage, alias: $alias) {
        version
      }
    }
  }
`);

const UpdateVersionDescription = graphql(`
  mutation UpdateVersionDescription($name: String!, $version: Int!, $description: String!) {
    updateModelVersion(name: $name, version: $version, description: $description) {
      name
      version
      description
    }
  }
`);

const SetVersionTag = graphql(`
  mutation SetVersionTag($name: String!, $version: Int!, $key: String!, $value: String!) {
    setModelVersionTag(name: $name, version: $version, key: $key, value: $value) {
      key
      value
    }
  }
`);

const DeleteVersionTag = graphql(`
  mutation DeleteVersionTag($name: String!, $version: Int!, $key: String!) {
    deleteModelVersionTag(name: $name, version: $version, key: $key)
  }
`);

export default function VersionPage() {
  const { name = '', version: versionParam = '' } = useParams();
  const version = Number(versionParam);
  const [result, refetch] = useQuery({ query: VersionPageQuery, variables: { name, version }, pause: !Number.isInteger(version) });
  const reload = () => refetch({ requestPolicy: 'network-only' });
  useRegistryEvents(name, reload);
  const [, updateDescription] = useMutation(UpdateVersionDescription);
  const [, setTag] = useMutation(SetVersionTag);
  const [, deleteTag] = useMutation(DeleteVersionTag);

  if (!Number.isInteger(version)) return <ErrorMessage error={`INVALID_ARGUMENT: "${versionParam}" is not a version number`} />;
  if (result.error) return <ErrorMessage error={result.error} title={`Could not load ${name} version ${version}`} />;
  if (!result.data) return <Loading />;
  const { registeredModel: model, modelVersion: mv } = result.data;
  if (!model || !mv) return <ErrorMessage error={`NOT_FOUND: ${name} has no version ${version}`} />;
  const holdersByStage = new Map<Stage, number[]>();
  for (const v of model.versions) holdersByStage.set(v.stage, [...(holdersByStage.get(v.stage) ?? []), v.version]);
  const done = (r: { error?: Parameters<typeof apiErrorMessage>[0] }) => {
    if (r.error) return apiErrorMessage(r.error);
    reload();
    return null;
  };
  const src = runSource(mv.source);

  return (
    <div className="page version-page" data-testid="version-page">
      <div className="page-header">
        <div>
          <p className="crumbs">
            <Link to={paths.models()}>Models</Link> / <Link to={paths.model(name)}>{name}</Link> /
          </p>
          <h1>
            {name} version {mv.version} <StageBadge stage={mv.stage} />
            {mv.aliases.map((a) => (
              <AliasBadge key={a} alias={a} />
            ))}
          </h1>
          <p className="muted">
            registered by {mv.createdBy} on {formatTimestamp(mv.createdAt)} from <span className="mono">{mv.source}</span>
          </p>
        </div>
      </div>
      <div className="registry-grid">
        <section className="panel" data-testid="version-actions">
          <h2>Actions</h2>
          <TransitionForm name={name} version={mv.version} currentStage={mv.stage} protectedStages={model.protectedStages} holdersByStage={holdersByStage} onDone={reload} />
          <AliasForm name={name} version={mv.version} aliases={model.aliases} protectedAliases={model.protectedAliases} onDone={reload} />
        </section>
        <div className="stack">
          <RequestsPanel requests={model.pendingRequests.filter((r) => r.version === mv.version)} onDone={reload} />
          <VersionAtBox name={name} aliases={model.aliases.map((a) => a.alias)} />
        </div>
      </div>
      <section className="panel" data-testid="lineage">
        <h2>Lineage</h2>
        <dl className="facts">
          <div className="fact">
            <dt>Run</dt>
            <dd>
              {mv.run ? (
                <Link to={paths.run(mv.run.id)} data-testid="lineage-run">
                  {mv.run.name || mv.run.id}
                </Link>
              ) : (
                <span className="muted">{mv.runId ? `${mv.runId} (deleted)` : 'not from a run'}</span>
              )}
            </dd>
          </div>
          <div className="fact">
            <dt>Git commit</dt>
            <dd className="mono">{mv.gitCommit ?? '—'}</dd>
          </div>
        </dl>
        <div className="lineage-tables">
          <div>
            <h3>Params</h3>
            <KeyValues rows={mv.run?.params.map((p) => [p.key, p.value]) ?? []} testid="lineage-params" />
          </div>
          <div>
            <h3>Metrics</h3>
            <KeyValues rows={mv.run?.latestMetrics.map((m) => [m.key, formatMetricValue(m.value)]) ?? []} testid="lineage-metrics" />
          </div>
        </div>
        <h3>Datasets (as at registration)</h3>
        {mv.datasets.length === 0 ? (
          <p className="muted">The run had logged no datasets.</p>
        ) : (
          <table className="data-table compact" data-testid="lineage-datasets">
            <thead>
              <tr>
                <th>Name</th>
                <th>Context</th>
                <th>Digest</th>
                <th>Source</th>
              </tr>
            </thead>
            <tbody>
              {mv.datasets.map((d) => (
                <tr key={`${d.name}@${d.digest}:${d.context ?? ''}`}>
                  <td>{d.name}</td>
                  <td>{d.context ?? ''}</td>
                  <td className="mono">{d.digest}</td>
                  <td className="mono">{d.source ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <ModelFiles runId={src?.runId ?? null} dir={src?.path ?? null} />
      <section className="panel">
        <h2>Description</h2>
        <DescriptionEditor value={mv.description ?? null} onSave={async (text) => done(await updateDescription({ name, version, description: text }))} />
        <h2>Tags</h2>
        <TagsEditor
          tags={mv.tags}
          onSet={async (key, value) => done(await setTag({ name, version, key, value }))}
          onDelete={async (key) => done(await deleteTag({ name, version, key }))}
        />
      </section>
      <Timeline changes={mv.history} fixedVersion={mv.version} />
    </div>
  );
}

function KeyValues({ rows, testid }: { rows: Array<[string, string]>; testid: string }) {
  if (rows.length === 0) return <p className="muted">None.</p>;
  return (
    <table className="data-table compact" data-testid={testid}>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="mono">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The signature, input example and requirements, read from the model directory. */
function ModelFiles({ runId, dir }: { runId: string | null; dir: string | null }) {
  const mlmodel = useArtifactText(runId, dir && `${dir}/MLmodel`);
  const example = useArtifactText(runId, dir && `${dir}/input_example.json`);
  const requirements = useArtifactText(runId, dir && `${dir}/requirements.txt`);
  const signature = mlmodel.state === 'ok' ? mlmodelSignature(mlmodel.text) : null;
  return (
    <section className="panel" data-testid="model-files">
      <h2>Model</h2>
      {!runId ? <p className="muted">The source is not a run's artifact: its files cannot be shown here.</p> : null}
      <h3>Signature</h3>
      {mlmodel.state === 'loading' ? (
        <Loading />
      ) : signature?.inputs ? (
        <div className="lineage-tables">
          <SignatureTable title="Inputs" columns={signature.inputs} testid="signature-inputs" />
          {signature.outputs ? <SignatureTable title="Outputs" columns={signature.outputs} testid="signature-outputs" /> : null}
        </div>
      ) : (
        <p className="muted">{mlmodel.state === 'ok' ? 'The MLmodel file has no signature.' : 'No MLmodel file was found.'}</p>
      )}
      <h3>Input example</h3>
      {example.state === 'ok' && exampleTable(example.text) ? (
        <ExampleTable table={exampleTable(example.text)!} />
      ) : (
        <FileText file={example} testid="input-example" pretty />
      )}
      <h3>Requirements</h3>
      <FileText file={requirements} testid="requirements" />
    </section>
  );
}

/** A DataFrame example in pandas "split" orient ({columns, data}) as a table; else null. */
function exampleTable(text: string): { columns: string[]; data: unknown[][] } | null {
  try {
    const v = JSON.parse(text) as { columns?: unknown; data?: unknown };
    if (Array.isArray(v.columns) && Array.isArray(v.data) && v.data.every(Array.isArray)) {
      return { columns: v.columns.map(String), data: v.data as unknown[][] };
    }
  } catch {
    // not JSON: shown as text
  }
  return null;
}

function ExampleTable({ table }: { table: { columns: string[]; data: unknown[][] } }) {
  return (
    <table className="data-table compact" data-testid="input-example">
      <thead>
        <tr>
          {table.columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {table.data.map((row, i) => (
          <tr key={i}>
            {row.map((cell, j) => (
              <td key={j} className="mono">
                {JSON.stringify(cell)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SignatureTable({ title, columns, testid }: { title: string; columns: SignatureColumn[]; testid: string }) {
  return (
    <div>
      <h4>{title}</h4>
      <table className="data-table compact" data-testid={testid}>
        <thead>
          <tr>
            <th>Name</th>
            <th>Type</th>
          </tr>
        </thead>
        <tbody>
          {columns.map((c, i) => (
            <tr key={i}>
              <td>{c.name ?? <span className="muted">(unnamed)</span>}</td>
              <td className="mono">
                {c.type}
                {c.shape ? ` ${JSON.stringify(c.shape)}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FileText({ file, testid, pretty = false }: { file: ReturnType<typeof useArtifactText>; testid: string; pretty?: boolean }) {
  if (file.state === 'loading') return <Loading />;
  if (file.state === 'missing') return <p className="muted">None.</p>;
  if (file.state === 'error') return <p className="error-message">{file.message}</p>;
  let text = file.text;
  if (pretty) {
    try {
      text = JSON.stringify(JSON.parse(text), null, 1);
    } catch {
      // not JSON: show it as it is
    }
  }
  return (
    <pre className="text-preview" data-testid={testid}>
      {text}
      {file.truncated ? '\n…' : ''}
    </pre>
  );
}

/** "Which version held Production (or @alias) at time T?", answered by the server's change log. */
function VersionAtBox({ name, aliases }: { name: string; aliases: readonly string[] }) {
  const client = useClient();
  const [target, setTarget] = useState<string>('stage:PRODUCTION');
  const [when, setWhen] = useState('');
  const [answer, setAnswer] = useState<{ text: string; version: number | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const time = parseLocalDateTime(when);
    if (time === null) {
      setError('Pick a date and time.');
      return;
    }
    setError(null);
    const [kind, value] = target.split(':') as ['stage' | 'alias', string];
    const vars = kind === 'stage' ? { name, time, stage: value as Stage, alias: null } : { name, time, stage: null, alias: value };
    const r = await client.query(VersionAtQuery, vars, { requestPolicy: 'network-only' }).toPromise();
    if (r.error) {
      setError(apiErrorMessage(r.error));
      return;
    }
    const v = r.data?.registeredModel?.versionAt?.version ?? null;
    setAnswer({ version: v, text: versionAtSentence(kind === 'stage' ? { stage: value as Stage } : { alias: value }, time, v, formatTimestamp) });
  };
  return (
    <section className="panel" data-testid="version-at">
      <h2>Which version held…</h2>
      <form className="inline-form" onSubmit={submit}>
        <select aria-label="Stage or alias" value={target} onChange={(e) => setTarget(e.target.value)}>
          {STAGES.filter((s) => s !== 'NONE').map((s) => (
            <option key={s} value={`stage:${s}`}>
              {stageLabel(s)}
            </option>
          ))}
          {aliases.map((a) => (
            <option key={a} value={`alias:${a}`}>
              @{a}
            </option>
          ))}
        </select>
        <span>at</span>
        <input type="datetime-local" step={1} aria-label="At time" value={when} onChange={(e) => setWhen(e.target.value)} data-testid="version-at-time" />
        <button type="submit">Ask</button>
      </form>
      {error ? <p className="error-message">{error}</p> : null}
      {answer ? (
        <p data-testid="version-at-answer">
          {answer.text} {answer.version !== null ? <Link to={paths.modelVersion(name, answer.version)}>Open version {answer.version}</Link> : null}
        </p>
      ) : null}
    </section>
  );
}
