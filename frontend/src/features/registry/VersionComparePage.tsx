/**
 * Two versions of a model side by side: params, metric figures and tags of their runs, and the
 * signatures of the models, with the rows that differ marked (the compare view's diff,
 * lib/diff.ts). URL: /models/<name>/compare?a=<version>&b=<version>.
 */
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { getFragmentData, graphql } from '../../graphql/generated';
import { formatMetricValue } from '../../graphql/metricValues';
import { ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { diffRows, type DiffRow, type DiffRun } from '../../lib/diff';
import { paths } from '../../lib/paths';
import { StageBadge } from './badges';
import { mlmodelSignature, runSource } from './registryRules';
import { useArtifactText } from './useArtifactText';

const ComparedVersionFields = graphql(`
  fragment ComparedVersion on ModelVersion {
    version
    stage
    source
    aliases
    run {
      id
      name
      params {
        key
        value
      }
      tags {
        key
        value
      }
      latestMetrics {
        key
        value
        min
        max
      }
    }
  }
`);

const CompareVersionsQuery = graphql(`
  query CompareVersions($name: String!, $a: Int!, $b: Int!) {
    a: modelVersion(name: $name, version: $a) {
      ...ComparedVersion
    }
    b: modelVersion(name: $name, version: $b) {
      ...ComparedVersion
    }
  }
`);

export default function VersionComparePage() {
  const { name = '' } = useParams();
  const [params] = useSearchParams();
  const a = Number(params.get('a'));
  const b = Number(params.get('b'));
  const valid = Number.isInteger(a) && Number.isInteger(b) && a > 0 && b > 0;
  const [result] = useQuery({ query: CompareVersionsQuery, variables: { name, a, b }, pause: !valid });
  const [showAll, setShowAll] = useState(false);
  const va = getFragmentData(ComparedVersionFields, result.data?.a) ?? null;
  const vb = getFragmentData(ComparedVersionFields, result.data?.b) ?? null;
  const srcA = va ? runSource(va.source) : null;
  const srcB = vb ? runSource(vb.source) : null;
  const mlA = useArtifactText(srcA?.runId ?? null, srcA ? `${srcA.path}/MLmodel` : null);
  const mlB = useArtifactText(srcB?.runId ?? null, srcB ? `${srcB.path}/MLmodel` : null);

  if (!valid) return <ErrorMessage error="INVALID_ARGUMENT: give two version numbers as ?a=…&b=…" />;
  if (result.error) return <ErrorMessage error={result.error} title="Could not load the versions" />;
  if (!result.data) return <Loading />;
  if (!va || !vb) return <ErrorMessage error={`NOT_FOUND: ${name} has no version ${!va ? a : b}`} />;

  const asDiffRun = (v: NonNullable<typeof va>, label: string): DiffRun => ({
    id: label,
    name: label,
    params: new Map(v.run?.params.map((p) => [p.key, p.value]) ?? []),
    tags: new Map(v.run?.tags.map((t) => [t.key, t.value]) ?? []),
    metrics: new Map(v.run?.latestMetrics.map((m) => [m.key, { latest: m.value, min: m.min ?? null, max: m.max ?? null }]) ?? []),
  });
  const signatureRun = (text: ReturnType<typeof useArtifactText>, label: string): DiffRun => {
    const sig = text.state === 'ok' ? mlmodelSignature(text.text) : { inputs: null, outputs: null };
    const cols = new Map<string, string>();
    for (const c of sig.inputs ?? []) cols.set(`input ${c.name ?? '(unnamed)'}`, c.type);
    for (const c of sig.outputs ?? []) cols.set(`output ${c.name ?? '(unnamed)'}`, c.type);
    return { id: label, name: label, params: cols, tags: new Map(), metrics: new Map() };
  };
  const labels = [`v${va.version}`, `v${vb.version}`];
  const rows = diffRows([asDiffRun(va, labels[0]!), asDiffRun(vb, labels[1]!)]);
  const sigRows = diffRows([signatureRun(mlA, labels[0]!), signatureRun(mlB, labels[1]!)]).map((r) => ({ ...r, section: 'signature' as const }));
  const all: Array<DiffRow | (Omit<DiffRow, 'section'> & { section: 'signature' })> = [...rows, ...sigRows];
  const shown = showAll ? all : all.filter((r) => r.differs);

  return (
    <div className="page" data-testid="version-compare">
      <p className="crumbs">
        <Link to={paths.models()}>Models</Link> / <Link to={paths.model(name)}>{name}</Link> /
      </p>
      <h1>
        {name}: version {va.version} and version {vb.version}
      </h1>
      <section className="panel">
        <div className="section-head">
          <h2>Differences</h2>
          <label className="checkbox-label">
            <input type="checkbox" checked={!showAll} onChange={(e) => setShowAll(!e.target.checked)} /> Only what differs ({all.filter((r) => r.differs).length} of {all.length})
          </label>
        </div>
        <table className="data-table compact diff" data-testid="version-diff">
          <thead>
            <tr>
              <th />
              {[va, vb].map((v) => (
                <th key={v.version}>
                  <Link to={paths.modelVersion(name, v.version)}>Version {v.version}</Link> <StageBadge stage={v.stage} />
                  {v.run ? (
                    <div className="muted">
                      run <Link to={paths.run(v.run.id)}>{v.run.name || v.run.id.slice(0, 8)}</Link>
                    </div>
                  ) : null}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <tr key={`${row.section}:${row.label}`} className={row.differs ? 'differs' : undefined} data-row={`${row.section}:${row.label}`}>
                <th scope="row">
                  <span className="col-group">{row.section}</span> {row.label}
                </th>
                {row.values.map((v, i) => (
                  <td key={i} className={row.section === 'metrics' ? 'num' : undefined}>
                    {v === null ? '—' : row.section === 'metrics' ? formatMetricValue(v) : String(v)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {shown.length === 0 ? <p className="muted">Nothing differs between these versions.</p> : null}
      </section>
    </div>
  );
}
