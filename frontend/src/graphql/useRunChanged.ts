/**
 * `runChanged` for views that follow runs live (the runs table, a run page, the compare view):
 * run created, status changed, finished. One subscription per experiment; with no experiment
 * ids, every experiment. The callback sees the run's new attributes.
 */
import { useEffect, useRef } from 'react';
import { useClient } from 'urql';
import { graphql } from './generated';
import { longToNumber, optionalLongToNumber } from './longs';

export const RunChangedSubscription = graphql(`
  subscription RunChanged($experimentId: ID) {
    runChanged(experimentId: $experimentId) {
      id
      name
      experimentId
      status
      startTime
      endTime
      user
      parentId
    }
  }
`);

export interface ChangedRun {
  id: string;
  name?: string | null;
  experimentId: string;
  status: string;
  startTime: number;
  endTime?: number | null;
  user?: string | null;
  parentId?: string | null;
}

export function useRunChanged(experimentIds: readonly string[] | null, onRun: (run: ChangedRun) => void, enabled = true): void {
  const client = useClient();
  const callback = useRef(onRun);
  callback.current = onRun;
  const idsKey = experimentIds === null ? null : experimentIds.join(',');
  useEffect(() => {
    if (!enabled || idsKey === '') return undefined;
    const ids: Array<string | null> = idsKey === null ? [null] : idsKey.split(',');
    const subs = ids.map((experimentId) =>
      client.subscription(RunChangedSubscription, { experimentId }).subscribe((r) => {
        if (r.data) {
          const run = r.data.runChanged;
          callback.current({ ...run, startTime: longToNumber(run.startTime), endTime: optionalLongToNumber(run.endTime) });
        }
      }),
    );
    return () => subs.forEach((s) => s.unsubscribe());
  }, [client, idsKey, enabled]);
}
