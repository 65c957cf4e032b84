/**
 * The run page's System tab: CPU, memory, disk, network and GPU series that the client's
 * sampler logged under `system/` (`log_system_metrics=True`), charted against wall-clock time
 * rather than step, related series overlaid (read and write, system and process, every GPU,
 * every machine of a multi-node run). Kept apart from the training metrics on purpose: a
 * dozen machine charts would bury the learning curves.
 */
import { useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../graphql/generated';
import { MetricChart } from '../../components/charts/MetricChart';
import { pointsForWidth, toChartData } from '../../components/charts/chartData';
import { Empty, ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { groupSystemKeys, type SystemChartGroup } from '../../lib/systemMetrics';
import { longToNumber } from '../../graphql/longs';

const SystemMetricHistoryQuery = graphql(`
  query SystemMetricHistory($runIds: [ID!]!, $keys: [String!], $maxPoints: Int) {
    metricHistories(runIds: $runIds, keys: $keys, maxPoints: $maxPoints) {
      runId
      key
      timestamps
      values
      downsampled
      totalPoints
    }
  }
`);

export function SystemMetrics({ runId, keys }: { runId: string; keys: readonly string[] }) {
  // Keyed on the names, not the array: the run page builds a new array on every render.
  const names = keys.join('\n');
  const groups = useMemo(() => groupSystemKeys(names ? names.split('\n') : []), [names]);
  const maxPoints = useMemo(() => pointsForWidth(Math.min(window.innerWidth - 80, 900)), []);
  if (groups.length === 0) {
    return (
      <Empty>
        This run has no system metrics. Start it with <code>log_system_metrics=True</code> (or set{' '}
        <code>MLTRAIL_LOG_SYSTEM_METRICS=1</code>) to record CPU, memory, disk, network and GPU use beside it.
      </Empty>
    );
  }
  return (
    <div className="chart-grid" data-testid="system-metrics">
      {groups.map((group) => (
        <SystemPanel key={group.id} runId={runId} group={group} maxPoints={maxPoints} />
      ))}
    </div>
  );
}

function SystemPanel({ runId, group, maxPoints }: { runId: string; group: SystemChartGroup; maxPoints: number }) {
  const keys = group.series.map((s) => s.key);
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: SystemMetricHistoryQuery,
    variables: { runIds: [runId], keys, maxPoints },
  });
  const [draws, setDraws] = useState(0);

  const shaped = useMemo(() => {
    if (!data) return null;
    const byKey = new Map(data.metricHistories.filter((s) => s.runId === runId).map((s) => [s.key, s]));
    const present = group.series.flatMap((ref) => {
      const series = byKey.get(ref.key);
      return series ? [{ label: ref.label, series }] : [];
    });
    return {
      // uPlot's time axis takes seconds; the server keeps milliseconds.
      chart: toChartData(
        present.map(({ label, series }) => ({ label, steps: series.timestamps.map((t) => longToNumber(t) / 1000), values: series.values })),
      ),
      downsampled: present.some(({ series }) => series.downsampled),
      samples: Math.max(0, ...present.map(({ series }) => series.totalPoints)),
    };
  }, [data, group, runId]);

  return (
    <div
      className="panel chart-panel"
      data-testid="system-panel"
      data-chart={group.id}
      data-series={group.series.length}
      data-drawn={draws > 0 ? 'true' : 'false'}
    >
      <div className="chart-head">
        <h3>
          {group.title}
          {group.unit ? <span className="muted"> ({group.unit})</span> : null}
        </h3>
      </div>
      {error ? (
        <ErrorMessage error={error} title={`Could not load ${group.title}`} onRetry={() => reexecute({ requestPolicy: 'network-only' })} />
      ) : !shaped ? (
        <Loading label="Loading points…" />
      ) : shaped.chart.x.length === 0 ? (
        <Empty>No points.</Empty>
      ) : (
        <>
          <MetricChart
            data={shaped.chart}
            xLabel="time"
            xTime
            spanGaps
            xRange={null}
            onDraw={() => setDraws((n) => (n === 0 ? 1 : n))}
          />
          <p className="chart-caption muted">
            {shaped.samples.toLocaleString()} samples{shaped.downsampled ? ' (downsampled by the server)' : ''}
            {fetching ? ' · loading…' : ''}
          </p>
        </>
      )}
    </div>
  );
}
