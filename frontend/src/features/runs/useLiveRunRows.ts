/**
 * Keeps the runs table current without polling: `runChanged` patches status, end time and name
 * and announces new runs; `metricsLogged` (per experiment) patches latest values, min and max.
 * Patches are coalesced to one re-render per animation frame. New runs are counted, and the
 * caller decides whether to show them at once (top of an unsorted table) or offer a marker.
 * After a reconnect the caller refetches, since events may have been missed.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { graphql } from '../../graphql/generated';
import { useLiveConnection } from '../../graphql/liveConnection';
import type { WireMetricValue } from '../../graphql/metricValues';
import { useRunChanged, type ChangedRun } from '../../graphql/useRunChanged';
import { patchFromMetrics, patchFromRunChange, type RunPatch } from './liveRows';
import type { RunRow } from './runRows';
import { withNumericSteps } from '../../graphql/longs';

const ExperimentMetricsLogged = graphql(`
  subscription ExperimentMetricsLogged($experimentId: ID) {
    metricsLogged(experimentId: $experimentId) {
      runId
      keys
      steps
      values
    }
  }
`);

export interface LiveRunRows {
  patches: ReadonlyMap<string, RunPatch>;
  /** Runs created since the rows were fetched that the table does not hold yet. */
  newRunIds: ReadonlySet<string>;
  /** Forget the new runs (after the table was refetched). */
  clearNew: () => void;
  /** The socket reconnected: the table should refetch what it may have missed. */
  reconnects: number;
}

export function useLiveRunRows(experimentIds: readonly string[], runs: readonly RunRow[]): LiveRunRows {
  const client = useClient();
  const patchesRef = useRef(new Map<string, RunPatch>());
  const [patches, setPatches] = useState<ReadonlyMap<string, RunPatch>>(patchesRef.current);
  const [newRunIds, setNewRunIds] = useState<ReadonlySet<string>>(new Set());
  const byId = useRef(new Map<string, RunRow>());
  useEffect(() => {
    byId.current = new Map(runs.map((r) => [r.id, r]));
    // Runs that are now loaded are no longer "new".
    setNewRunIds((current) => {
      if (current.size === 0) return current;
      const left = new Set(Array.from(current).filter((id) => !byId.current.has(id)));
      return left.size === current.size ? current : left;
    });
  }, [runs]);

  const frame = useRef<number | null>(null);
  const flush = useCallback(() => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setPatches(new Map(patchesRef.current));
    });
  }, []);
  useEffect(() => () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
  }, []);

  const onRunChanged = useCallback(
    (run: ChangedRun) => {
      if (!byId.current.has(run.id)) {
        setNewRunIds((current) => (current.has(run.id) ? current : new Set(current).add(run.id)));
      }
      patchesRef.current.set(run.id, patchFromRunChange(patchesRef.current.get(run.id), run));
      flush();
    },
    [flush],
  );
  useRunChanged(experimentIds.length > 0 ? experimentIds : null, onRunChanged);

  const idsKey = experimentIds.join(',');
  useEffect(() => {
    const ids: Array<string | null> = idsKey ? idsKey.split(',') : [null];
    const subs = ids.map((experimentId) =>
      client.subscription(ExperimentMetricsLogged, { experimentId }).subscribe((r) => {
        const e = r.data?.metricsLogged;
        // Only rows the table holds are patched: a busy experiment must not grow this map
        // with runs nobody scrolled to (their values come with the page that loads them).
        if (!e || !byId.current.has(e.runId)) return;
        const values = e.values as WireMetricValue[];
        patchesRef.current.set(e.runId, patchFromMetrics(patchesRef.current.get(e.runId), byId.current.get(e.runId), { ...withNumericSteps(e), values }));
        flush();
      }),
    );
    return () => subs.forEach((s) => s.unsubscribe());
  }, [client, idsKey, flush]);

  const { epoch } = useLiveConnection();
  const [reconnects, setReconnects] = useState(0);
  const seen = useRef(epoch);
  useEffect(() => {
    if (epoch === seen.current) return;
    const first = seen.current === 0;
    seen.current = epoch;
    if (!first) setReconnects((n) => n + 1);
  }, [epoch]);

  const clearNew = useCallback(() => setNewRunIds(new Set()), []);
  return { patches, newRunIds, clearNew, reconnects };
}
