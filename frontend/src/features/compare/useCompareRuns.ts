/**
 * The compared runs' attributes, params, tags and metric summaries (latest, min, max) in one
 * `runTable` request (`attributes.run_id IN (...)`), in the order of the URL. Refetched when
 * `runChanged` reports one of them (status, end time), never polled.
 */
import { useCallback, useMemo } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../graphql/generated';
import type { WireMetricValue } from '../../graphql/metricValues';
import { useRunChanged } from '../../graphql/useRunChanged';
import { longToNumber, optionalLongToNumber } from '../../graphql/longs';

const CompareRunsQuery = graphql(`
  query CompareRuns($filter: String!, $first: Int!) {
    runTable(filter: $filter, first: $first) {
      runIds
      experimentIds
      names
      statuses
      startTimes
      endTimes
      params {
        key
        values
      }
      tags {
        key
        values
      }
      metrics {
        key
        values
        steps
        mins
        maxs
      }
    }
  }
`);

export interface ComparedRun {
  id: string;
  name: string;
  experimentId: string;
  status: string;
  startTime: number;
  endTime: number | null;
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: Map<string, { latest: WireMetricValue; step: number; min: WireMetricValue | null; max: WireMetricValue | null }>;
}

function quote(id: string): string {
  return `'${id.replace(/'/g, "''")}'`;
}

export function useCompareRuns(runIds: readonly string[]) {
  const filter = runIds.length > 0 ? `attributes.run_id IN (${runIds.map(quote).join(', ')})` : '';
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: CompareRunsQuery,
    variables: { filter, first: Math.max(1, runIds.length) },
    pause: runIds.length === 0,
    requestPolicy: 'cache-and-network',
  });

  const runs = useMemo<ComparedRun[]>(() => {
    const t = data?.runTable;
    if (!t) return [];
    const byId = new Map<string, ComparedRun>();
    t.runIds.forEach((id, i) => {
      byId.set(id, {
        id,
        name: t.names[i] ?? id.slice(0, 8),
        experimentId: t.experimentIds[i] ?? '',
        status: t.statuses[i] ?? '',
        startTime: longToNumber(t.startTimes[i] ?? 0),
        endTime: optionalLongToNumber(t.endTimes[i]),
        params: new Map(),
        tags: new Map(),
        metrics: new Map(),
      });
    });
    const rows = t.runIds.map((id) => byId.get(id)!);
    for (const c of t.params) c.values.forEach((v, i) => v != null && rows[i]!.params.set(c.key, v));
    for (const c of t.tags) c.values.forEach((v, i) => v != null && rows[i]!.tags.set(c.key, v));
    for (const c of t.metrics) {
      c.values.forEach((v, i) => {
        if (v == null) return;
        rows[i]!.metrics.set(c.key, { latest: v, step: longToNumber(c.steps[i] ?? 0), min: c.mins[i] ?? null, max: c.maxs[i] ?? null });
      });
    }
    // The URL's order is the colour order.
    return runIds.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }, [data, runIds]);

  const experimentIds = useMemo(() => Array.from(new Set(runs.map((r) => r.experimentId))).sort(), [runs]);
  const ids = useMemo(() => new Set(runIds), [runIds]);
  const running = runs.some((r) => r.status === 'RUNNING');
  const onChanged = useCallback(
    (run: { id: string }) => {
      if (ids.has(run.id)) reexecute({ requestPolicy: 'network-only' });
    },
    [ids, reexecute],
  );
  useRunChanged(experimentIds, onChanged, running);

  return { runs, fetching, error, running, missing: runIds.filter((id) => !runs.some((r) => r.id === id) && !fetching && !!data) };
}
