/**
 * The experiments behind a runs table and the param, metric and tag keys the server reports
 * for them — the column chooser offers exactly these.
 */
import { useEffect, useState } from 'react';
import { useClient, type CombinedError } from 'urql';
import { graphql } from '../../graphql/generated';

const RunsTableExperimentQuery = graphql(`
  query RunsTableExperiment($id: ID!) {
    experiment(id: $id) {
      id
      name
      runCount
      paramKeys
      metricKeys
      tagKeys
    }
  }
`);

const RunsTableAllExperimentsQuery = graphql(`
  query RunsTableAllExperiments {
    experiments(first: 1000) {
      nodes {
        id
        name
        runCount
        paramKeys
        metricKeys
        tagKeys
      }
    }
  }
`);

export interface ExperimentKeys {
  id: string;
  name: string;
  runCount: number;
  paramKeys: string[];
  metricKeys: string[];
  tagKeys: string[];
}

export interface KeysState {
  experiments: ExperimentKeys[];
  paramKeys: string[];
  metricKeys: string[];
  tagKeys: string[];
  fetching: boolean;
  error: CombinedError | null;
}

function union(lists: string[][]): string[] {
  return Array.from(new Set(lists.flat())).sort((a, b) => a.localeCompare(b));
}

export function useExperimentKeys(experimentIds: readonly string[]): KeysState {
  const client = useClient();
  const idsKey = experimentIds.join(',');
  const [state, setState] = useState<KeysState & { idsKey: string | null }>({
    idsKey: null,
    experiments: [],
    paramKeys: [],
    metricKeys: [],
    tagKeys: [],
    fetching: true,
    error: null,
  });

  useEffect(() => {
    let cancelled = false;
    const ids = idsKey ? idsKey.split(',') : [];
    const load = async (): Promise<{ experiments: ExperimentKeys[]; error: CombinedError | null }> => {
      if (ids.length === 0) {
        const r = await client.query(RunsTableAllExperimentsQuery, {}, { requestPolicy: 'network-only' }).toPromise();
        return { experiments: r.data?.experiments.nodes ?? [], error: r.error ?? null };
      }
      const results = await Promise.all(
        ids.map((id) => client.query(RunsTableExperimentQuery, { id }, { requestPolicy: 'network-only' }).toPromise()),
      );
      const failed = results.find((r) => r.error);
      return {
        experiments: results.flatMap((r) => (r.data?.experiment ? [r.data.experiment] : [])),
        error: failed?.error ?? null,
      };
    };
    setState((s) => ({ ...s, fetching: true }));
    void load().then(({ experiments, error }) => {
      if (cancelled) return;
      setState({
        idsKey,
        experiments,
        paramKeys: union(experiments.map((e) => e.paramKeys)),
        metricKeys: union(experiments.map((e) => e.metricKeys)),
        tagKeys: union(experiments.map((e) => e.tagKeys)),
        fetching: false,
        error,
      });
    });
    return () => {
      cancelled = true;
    };
  }, [client, idsKey]);

  return state.idsKey === idsKey ? state : { ...state, fetching: true };
}
