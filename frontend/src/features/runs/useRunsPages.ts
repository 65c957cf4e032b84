/**
 * Loads the runs matching a view page by page through `runTable` (each page as columns, with
 * the cursors of `runs`), accumulating rows as the table scrolls. A change of experiments,
 * filter or sort starts over; responses to an outdated request are dropped.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, type CombinedError } from 'urql';
import { graphql } from '../../graphql/generated';
import { tableToRunRows, type RunRow } from './runRows';

// Columns, not run objects: graphql-core completes a page of 200 runs × 30 keys as objects in
// ~450 ms, as a dozen lists in tens of ms. Only the columns RunRow holds are asked for.
export const RunsTablePageQuery = graphql(`
  query RunsTablePage($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int, $after: String) {
    runTable(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      pageInfo {
        endCursor
        hasNextPage
      }
      runIds
      experimentIds
      names
      statuses
      users
      startTimes
      endTimes
      parentIds
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

export interface RunsQueryInput {
  experimentIds: string[];
  filter: string;
  orderBy: string[];
}

export interface RunsPages {
  runs: RunRow[];
  /** The runs shown belong to the previous filter/sort while the new first page loads. */
  stale: boolean;
  totalCount: number | null;
  hasNextPage: boolean;
  fetching: boolean;
  error: CombinedError | null;
  loadMore: () => void;
  /** Loads every remaining page (CSV export of the whole view). */
  loadAll: (onProgress?: (loaded: number) => void) => Promise<RunRow[]>;
  retry: () => void;
}

export function useRunsPages(input: RunsQueryInput, pageSize: number, minPages: number): RunsPages {
  const client = useClient();
  const key = JSON.stringify(input);
  const [state, setState] = useState<{
    key: string;
    /** The query the loaded runs belong to: the old rows stay on screen until new ones arrive. */
    dataKey: string | null;
    runs: RunRow[];
    cursor: string | null;
    totalCount: number | null;
    hasNextPage: boolean;
    fetching: boolean;
    error: CombinedError | null;
  }>({ key, dataKey: null, runs: [], cursor: null, totalCount: null, hasNextPage: true, fetching: false, error: null });
  const generation = useRef(0);
  const inflight = useRef(false);
  const stateRef = useRef(state);
  stateRef.current = state;
  const [retries, setRetries] = useState(0);

  const fetchPage = useCallback(
    async (after: string | null, gen: number) => {
      const result = await client
        .query(
          RunsTablePageQuery,
          {
            experimentIds: input.experimentIds.length > 0 ? input.experimentIds : null,
            filter: input.filter.trim() || null,
            orderBy: input.orderBy.length > 0 ? input.orderBy : null,
            first: pageSize,
            after,
          },
          { requestPolicy: 'network-only' },
        )
        .toPromise();
      if (gen !== generation.current) return null;
      return result;
    },
    // key captures input
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, key, pageSize],
  );

  const loadNext = useCallback(async () => {
    const s = stateRef.current;
    if (inflight.current || !s.hasNextPage || s.error) return;
    inflight.current = true;
    const gen = generation.current;
    setState((prev) => ({ ...prev, fetching: true }));
    const result = await fetchPage(s.cursor, gen);
    // A stale response belongs to an abandoned generation, which no longer owns `inflight`.
    if (!result) return;
    inflight.current = false;
    if (result.error || !result.data) {
      setState((prev) => ({ ...prev, fetching: false, error: result.error ?? null }));
      return;
    }
    const page = result.data.runTable;
    const rows = tableToRunRows(page);
    setState((prev) => ({
      ...prev,
      dataKey: prev.key,
      runs: s.cursor === null ? rows : prev.runs.concat(rows),
      cursor: page.pageInfo.endCursor ?? null,
      totalCount: page.totalCount,
      hasNextPage: page.pageInfo.hasNextPage && page.runIds.length > 0,
      fetching: false,
      error: null,
    }));
  }, [fetchPage]);

  // Start over when the query changes (or on retry).
  useEffect(() => {
    generation.current += 1;
    inflight.current = false;
    const fresh = { ...stateRef.current, key, cursor: null, hasNextPage: true, fetching: false, error: null };
    stateRef.current = fresh;
    setState(fresh);
    void loadNext();
  }, [key, retries, loadNext]);

  // A shared link may point at page N: keep loading until it is there.
  useEffect(() => {
    if (
      state.dataKey === state.key &&
      !state.fetching &&
      !state.error &&
      state.hasNextPage &&
      state.runs.length > 0 &&
      state.runs.length < minPages * pageSize
    ) {
      void loadNext();
    }
  }, [state, minPages, pageSize, loadNext]);

  const loadAll = useCallback(
    async (onProgress?: (loaded: number) => void) => {
      const gen = generation.current;
      let { runs, cursor, hasNextPage } = stateRef.current;
      if (stateRef.current.dataKey !== stateRef.current.key) throw new Error('The runs are still loading');
      while (hasNextPage) {
        const result = await fetchPage(cursor, gen);
        if (!result) throw new Error('The view changed while exporting');
        if (result.error || !result.data) throw new Error(result.error?.message ?? 'no data');
        const page = result.data.runTable;
        runs = runs.concat(tableToRunRows(page));
        cursor = page.pageInfo.endCursor ?? null;
        hasNextPage = page.pageInfo.hasNextPage && page.runIds.length > 0;
        onProgress?.(runs.length);
      }
      return runs;
    },
    [fetchPage],
  );

  // Stable: live updates (useLiveRunRows) call it from effects.
  const retry = useCallback(() => setRetries((n) => n + 1), []);
  const isCurrent = state.key === key && state.dataKey === key;
  return {
    runs: state.runs,
    stale: !isCurrent,
    totalCount: state.totalCount,
    hasNextPage: state.hasNextPage,
    fetching: state.fetching || !isCurrent,
    error: state.error,
    loadMore: () => void loadNext(),
    loadAll,
    retry,
  };
}
