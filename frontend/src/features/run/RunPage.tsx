/**
 * One run: overview (status, timing, user, code version, source, environment, datasets),
 * params and tags, a chart per metric, the artifacts browser, and the registered model
 * versions made from it. URL state: tab, q (param/tag search), zoom.<metric>, dir and file.
 * The System tab charts the machine metrics the client sampled (`system/…` keys) apart.
 */
import { Link, useParams, useSearchParams } from 'react-router';
import { useCallback } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../graphql/generated';
import { ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { LiveIndicator } from '../../components/ui/LiveIndicator';
import { StatusBadge } from '../../components/ui/StatusBadge';
import { formatMetricValue } from '../../graphql/metricValues';
import { useRunChanged } from '../../graphql/useRunChanged';
import { paths } from '../../lib/paths';
import { isSystemKey } from '../../lib/systemMetrics';
import { useUrlMirror } from '../../lib/useUrlMirror';
import { ArtifactsBrowser } from './ArtifactsBrowser';
import { KeyValueTable } from './KeyValueTable';
import { MetricCharts } from './MetricCharts';
import { RunOverview } from './RunOverview';
import { SystemMetrics } from './SystemMetrics';

const RunPageQuery = graphql(`
  query RunPage($id: ID!) {
    run(id: $id) {
      id
      name
      status
      experiment {
        id
        name
      }
      parent {
        id
        name
      }
      children {
        id
        name
        status
        latestMetrics {
          key
          value
        }
      }
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
        step
        count
      }
      ...RunOverviewFields
    }
  }
`);

const TABS = [
  { id: 'overview', label: 'Overview' },
  { id: 'metrics', label: 'Metrics' },
  { id: 'system', label: 'System' },
  { id: 'artifacts', label: 'Artifacts' },
] as const;
type Tab = (typeof TABS)[number]['id'];

export default function RunPage() {
  const { runId = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const tabParam = params.get('tab');
  const tab: Tab = TABS.some((t) => t.id === tabParam) ? (tabParam as Tab) : 'overview';

  const [{ data, fetching, error }, reexecute] = useQuery({
    query: RunPageQuery,
    variables: { id: runId },
    requestPolicy: 'cache-and-network',
  });

  const setParam = (name: string, value: string | null, replace = true) => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value === null || value === '') next.delete(name);
        else next.set(name, value);
        return next;
      },
      { replace },
    );
  };
  const [paramSearch, setParamSearch] = useUrlMirror(params.get('q') ?? '', (q) => setParam('q', q));

  // Status, end time and duration follow `runChanged`: one refetch per change of this run
  // (a handful per run's life), no polling.
  const experimentId = data?.run?.experiment.id ?? null;
  const onRunChanged = useCallback(
    (changed: { id: string }) => {
      if (changed.id === runId) reexecute({ requestPolicy: 'network-only' });
    },
    [runId, reexecute],
  );
  const running = data?.run?.status === 'RUNNING';
  useRunChanged(experimentId ? [experimentId] : [], onRunChanged, running);

  if (error && !data?.run) {
    return <ErrorMessage error={error} title="Could not load this run" onRetry={() => reexecute({ requestPolicy: 'network-only' })} />;
  }
  if (!data?.run) return fetching ? <Loading label="Loading run…" /> : <ErrorMessage error="This run does not exist." />;
  const run = data.run;
  // Sampled machine metrics (`system/…`) get their own tab, not a chart each among the curves.
  const trainingMetrics = run.latestMetrics.filter((m) => !isSystemKey(m.key));
  const systemKeys = run.latestMetrics.filter((m) => isSystemKey(m.key)).map((m) => m.key);

  return (
    <section className="page run-page">
      <div className="page-header">
        <div>
          <nav className="breadcrumbs">
            <Link to={paths.experiments()}>Experiments</Link> /{' '}
            <Link to={paths.runs([run.experiment.id])}>{run.experiment.name}</Link> /
            {run.parent ? (
              <>
                {' '}
                <Link to={paths.run(run.parent.id)}>{run.parent.name || run.parent.id.slice(0, 8)}</Link> /
              </>
            ) : null}
          </nav>
          <h1 data-testid="run-title">
            {run.name || run.id} <StatusBadge status={run.status} /> {running ? <LiveIndicator active /> : null}
          </h1>
          <p className="muted mono">{run.id}</p>
        </div>
      </div>
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            className={tab === t.id ? 'active' : undefined}
            onClick={() => setParam('tab', t.id === 'overview' ? null : t.id, false)}
          >
            {t.label}
            {t.id === 'metrics' ? <span className="tab-count">{trainingMetrics.length}</span> : null}
          </button>
        ))}
      </div>
      {tab === 'overview' ? (
        <div className="run-overview-grid">
          <RunOverview run={run} />
          <div className="panel">
            <h2>Params &amp; tags</h2>
            <input
              type="search"
              className="search-input"
              placeholder="Search params and tags"
              aria-label="Search params and tags"
              value={paramSearch}
              onChange={(e) => setParamSearch(e.target.value)}
            />
            <KeyValueTable title="Params" entries={run.params} search={paramSearch} />
            <KeyValueTable title="Tags" entries={run.tags} search={paramSearch} />
          </div>
          {run.children.length > 0 ? (
            <div className="panel">
              <h2>Child runs</h2>
              <table className="data-table compact child-runs" data-testid="child-runs">
                <tbody>
                  {run.children.map((c) => (
                    <tr key={c.id}>
                      <td>
                        <Link to={paths.run(c.id)}>{c.name || c.id.slice(0, 8)}</Link>
                      </td>
                      <td>
                        <StatusBadge status={c.status} />
                      </td>
                      <td className="mono child-metrics">
                        {[...c.latestMetrics]
                          .sort((a, b) => a.key.localeCompare(b.key))
                          .slice(0, 4)
                          .map((m) => `${m.key} ${formatMetricValue(m.value)}`)
                          .join(' · ') || '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          <div className="panel" data-testid="registered-versions">
            <h2>Registered model versions</h2>
            <p className="muted">
              Model versions registered from this run will be listed here, with their stage and aliases, once the
              model registry is available on this server.
            </p>
          </div>
        </div>
      ) : tab === 'metrics' ? (
        <MetricCharts
          runId={run.id}
          metrics={trainingMetrics}
          live={running}
          params={params}
          onParamChange={(name, value) => setParam(name, value)}
        />
      ) : tab === 'system' ? (
        <SystemMetrics runId={run.id} keys={systemKeys} />
      ) : (
        <ArtifactsBrowser
          runId={run.id}
          dir={params.get('dir') ?? ''}
          file={params.get('file')}
          onNavigate={(dir, file) => {
            const next = new URLSearchParams(params);
            if (dir) next.set('dir', dir);
            else next.delete('dir');
            if (file) next.set('file', file);
            else next.delete('file');
            setParams(next);
          }}
        />
      )}
    </section>
  );
}
