/**
 * Metric histories that stay current: fetched once (downsampled to `maxPoints` for the visible
 * step range), then extended by the `metricsLogged` subscription while `live` — no polling.
 *
 * Order matters, as the schema says: subscribe first, buffer events, fetch, then apply the
 * buffer, so no point falls between the two (duplicates are dropped by step). After a
 * reconnect (the socket's epoch moves) or an event reporting `missed` points, fetch what came
 * after the last step held, so the chart never has a gap. Re-renders are coalesced to one per
 * animation frame: a run logging 1,000 points/s redraws at most at the display rate.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useClient, type CombinedError } from 'urql';
import { graphql } from './generated';
import { useLiveConnection } from './liveConnection';
import { appendBatch, backfillFrom, mergeBackfill, newLiveSeries, seriesId, type LiveSeries, type MetricBatch } from './liveSeries';

export const LiveMetricHistoriesQuery = graphql(`
  query LiveMetricHistories($runIds: [ID!]!, $keys: [String!], $maxPoints: Int, $minStep: Long, $maxStep: Long) {
    metricHistories(runIds: $runIds, keys: $keys, maxPoints: $maxPoints, minStep: $minStep, maxStep: $maxStep) {
      runId
      key
      steps
      timestamps
      values
      downsampled
      totalPoints
    }
  }
`);

export const MetricsLoggedSubscription = graphql(`
  subscription MetricsLogged($runIds: [ID!]) {
    metricsLogged(runIds: $runIds) {
      runId
      keys
      steps
      timestamps
      values
      missed
    }
  }
`);

export interface LiveHistoriesInput {
  runIds: readonly string[];
  /** null: every key of the runs. */
  keys: readonly string[] | null;
  maxPoints: number | null;
  minStep?: number | null;
  maxStep?: number | null;
  /** Subscribe to new points (some run is RUNNING). */
  live: boolean;
}

export interface LiveHistories {
  series: LiveSeries[];
  /** Changes whenever any series grew (the arrays are extended in place). */
  version: number;
  fetching: boolean;
  error: CombinedError | null;
  /** Set when the last catch-up after a reconnect finished (for tests and the indicator). */
  backfills: number;
  refetch: () => void;
}

export function useLiveMetricHistories(input: LiveHistoriesInput): LiveHistories {
  const client = useClient();
  const { epoch } = useLiveConnection();
  const key = JSON.stringify([input.runIds, input.keys, input.maxPoints, input.minStep ?? null, input.maxStep ?? null]);
  const store = useRef(new Map<string, LiveSeries>());
  const [version, setVersion] = useState(0);
  const [state, setState] = useState<{ fetching: boolean; error: CombinedError | null; backfills: number }>({
    fetching: true,
    error: null,
    backfills: 0,
  });
  const [reload, setReload] = useState(0);
  const inputRef = useRef(input);
  inputRef.current = input;
  const ready = useRef(false);
  const seenEpoch = useRef(epoch);
  const pendingBackfill = useRef(false);

  // One re-render per frame however many events arrive.
  const frame = useRef<number | null>(null);
  const bump = useCallback(() => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setVersion((v) => v + 1);
    });
  }, []);
  useEffect(() => () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
  }, []);

  const wanted = useCallback((runId: string, metric: string) => {
    const { runIds, keys } = inputRef.current;
    return runIds.includes(runId) && (keys === null || keys.includes(metric));
  }, []);

  const backfill = useCallback(async () => {
    const { runIds, keys, maxPoints, maxStep } = inputRef.current;
    const from = backfillFrom(store.current.values());
    const result = await client
      .query(
        LiveMetricHistoriesQuery,
        { runIds: [...runIds], keys: keys ? [...keys] : null, maxPoints, minStep: from, maxStep: maxStep ?? null },
        { requestPolicy: 'network-only' },
      )
      .toPromise();
    if (!result.data) return;
    for (const f of result.data.metricHistories) {
      const id = seriesId(f.runId, f.key);
      const s = store.current.get(id);
      if (s) mergeBackfill(s, f);
      else store.current.set(id, newLiveSeries(f.runId, f.key, f));
    }
    setState((st) => ({ ...st, backfills: st.backfills + 1 }));
    bump();
  }, [client, bump]);

  // Subscribe, buffer, fetch, apply.
  useEffect(() => {
    const { runIds, keys, maxPoints, minStep, maxStep, live } = inputRef.current;
    let cancelled = false;
    ready.current = false;
    const buffered: MetricBatch[] = [];
    const onEvent = (event: MetricBatch & { missed: number }) => {
      if (!ready.current) {
        buffered.push(event);
        return;
      }
      const grown = appendBatch(store.current, event, { accept: wanted, maxStep: maxStep ?? null });
      if (event.missed > 0) void backfill();
      if (grown.size > 0) bump();
    };
    const sub = live && runIds.length > 0
      ? client.subscription(MetricsLoggedSubscription, { runIds: [...runIds] }).subscribe((r) => {
          if (r.data) onEvent(r.data.metricsLogged as MetricBatch & { missed: number });
        })
      : null;
    setState((st) => ({ ...st, fetching: true, error: null }));
    void client
      .query(
        LiveMetricHistoriesQuery,
        { runIds: [...runIds], keys: keys ? [...keys] : null, maxPoints, minStep: minStep ?? null, maxStep: maxStep ?? null },
        { requestPolicy: 'network-only' },
      )
      .toPromise()
      .then((result) => {
        if (cancelled) return;
        if (result.error || !result.data) {
          setState((st) => ({ ...st, fetching: false, error: result.error ?? null }));
          return;
        }
        const next = new Map<string, LiveSeries>();
        for (const f of result.data.metricHistories) next.set(seriesId(f.runId, f.key), newLiveSeries(f.runId, f.key, f));
        store.current = next;
        ready.current = true;
        for (const e of buffered) appendBatch(next, e, { accept: wanted, maxStep: maxStep ?? null });
        if (pendingBackfill.current) {
          pendingBackfill.current = false;
          void backfill();
        }
        setState((st) => ({ ...st, fetching: false, error: null }));
        setVersion((v) => v + 1);
      });
    return () => {
      cancelled = true;
      sub?.unsubscribe();
    };
    // `key` stands for the input's content.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key, input.live, reload, wanted, backfill, bump]);

  // A reconnect means events may have been missed while no socket was open.
  // The socket's first connection counts too: the initial fetch may have been answered before
  // the server registered the subscription. The catch-up is small (only steps past the last).
  useEffect(() => {
    if (epoch === seenEpoch.current) return;
    seenEpoch.current = epoch;
    if (!inputRef.current.live) return;
    if (ready.current) void backfill();
    else pendingBackfill.current = true;
  }, [epoch, backfill]);

  // A new list only when something changed, so memoised consumers keep their work.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const series = useMemo(() => Array.from(store.current.values()), [version]);
  return {
    series,
    version,
    fetching: state.fetching,
    error: state.error,
    backfills: state.backfills,
    refetch: () => setReload((n) => n + 1),
  };
}
