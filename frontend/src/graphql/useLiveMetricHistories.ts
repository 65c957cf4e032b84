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
import { withNumericSteps } from './longs';

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

/** How long a catch-up waits for the first event through a re-established subscription. */
const RESYNC_WAIT_MS = 1500;

interface Resync {
  /** Fetch the points from this step on (just past the earliest last step held). */
  from: number | null;
  /** Live events held back until the fetch is merged. */
  buffered: MetricBatch[];
  started: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

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
  const pendingResync = useRef(false);

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

  // Catch-up after a reconnect (or an event reporting `missed` points). graphql-transport-ws
  // does not acknowledge a subscribe, so a fetch sent right after the socket reconnects may be
  // answered before the server has re-registered the subscription, and a point logged in
  // between would be in neither. So: pause live appends (buffer events), fetch after the first
  // event through the new subscription (proof it is registered) or after RESYNC_WAIT_MS if the
  // run is quiet, merge what the fetch brought past each series' last step, then apply the
  // buffer (duplicates drop by step).
  const resync = useRef<Resync | null>(null);
  const finishResync = useCallback(async () => {
    const r = resync.current;
    if (!r || r.started) return;
    r.started = true;
    if (r.timer !== null) clearTimeout(r.timer);
    const { runIds, keys, maxPoints, maxStep } = inputRef.current;
    const result = await client
      .query(
        LiveMetricHistoriesQuery,
        { runIds: [...runIds], keys: keys ? [...keys] : null, maxPoints, minStep: r.from, maxStep: maxStep ?? null },
        { requestPolicy: 'network-only' },
      )
      .toPromise();
    if (resync.current !== r) return; // superseded by another reconnect, or the view changed
    resync.current = null;
    for (const wire of result.data?.metricHistories ?? []) {
      const f = withNumericSteps(wire);
      const id = seriesId(f.runId, f.key);
      const s = store.current.get(id);
      if (s) mergeBackfill(s, f);
      else if (wanted(f.runId, f.key)) store.current.set(id, newLiveSeries(f.runId, f.key, f));
    }
    for (const e of r.buffered) appendBatch(store.current, e, { accept: wanted, maxStep: maxStep ?? null });
    setState((st) => ({ ...st, backfills: st.backfills + 1 }));
    bump();
  }, [client, bump, wanted]);

  const startResync = useCallback(
    (waitMs: number) => {
      const previous = resync.current;
      if (previous && !previous.started) return; // already waiting for its moment
      const from = backfillFrom(store.current.values());
      const r: Resync = {
        // A superseded catch-up's fetch is dropped: start from where it would have.
        from: previous?.from != null && from != null ? Math.min(previous.from, from) : (previous?.from ?? from),
        buffered: previous ? [...previous.buffered] : [],
        started: false,
        timer: null,
      };
      resync.current = r;
      r.timer = setTimeout(() => void finishResync(), waitMs);
    },
    [finishResync],
  );

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
      if (event.missed > 0 && !resync.current) startResync(0);
      if (resync.current) {
        resync.current.buffered.push(event);
        void finishResync();
        return;
      }
      const grown = appendBatch(store.current, event, { accept: wanted, maxStep: maxStep ?? null });
      if (grown.size > 0) bump();
    };
    const sub = live && runIds.length > 0
      ? client.subscription(MetricsLoggedSubscription, { runIds: [...runIds] }).subscribe((r) => {
          if (r.data) onEvent(withNumericSteps(r.data.metricsLogged));
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
        for (const wire of result.data.metricHistories) {
          const f = withNumericSteps(wire);
          next.set(seriesId(f.runId, f.key), newLiveSeries(f.runId, f.key, f));
        }
        store.current = next;
        ready.current = true;
        for (const e of buffered) appendBatch(next, e, { accept: wanted, maxStep: maxStep ?? null });
        if (pendingResync.current) {
          pendingResync.current = false;
          startResync(RESYNC_WAIT_MS);
        }
        setState((st) => ({ ...st, fetching: false, error: null }));
        setVersion((v) => v + 1);
      });
    return () => {
      cancelled = true;
      sub?.unsubscribe();
      if (resync.current?.timer != null) clearTimeout(resync.current.timer);
      resync.current = null;
      pendingResync.current = false;
    };
    // `key` stands for the input's content.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, key, input.live, reload, wanted, startResync, finishResync, bump]);

  // A reconnect means events may have been missed while no socket was open. The socket's
  // first connection counts too: the initial fetch may have been answered before the server
  // registered the subscription. The catch-up is small (only steps past the last).
  useEffect(() => {
    if (epoch === seenEpoch.current) return;
    seenEpoch.current = epoch;
    if (!inputRef.current.live) return;
    if (ready.current) startResync(RESYNC_WAIT_MS);
    else pendingResync.current = true;
  }, [epoch, startResync]);

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
