/**
 * Follows `registryEvents` for one model (or all) and calls back on each change made anywhere
 * (another tab, the CLI, a CI job), so an open page refetches instead of going stale. The
 * views refetch rather than patch: a change can move several versions at once (archive the
 * holders), and the server's answer is the one truth.
 *
 * A burst of changes (an approval is three: approved, the move, the archived holder) becomes
 * one callback, and a reconnected socket (liveConnection's epoch moves) calls back once too,
 * since changes made while it was down were never streamed.
 */
import { useEffect, useRef } from 'react';
import { useClient } from 'urql';
import { graphql } from '../../graphql/generated';
import { useLiveConnection } from '../../graphql/liveConnection';

const RegistryEventsSubscription = graphql(`
  subscription RegistryEvents($name: String) {
    registryEvents(name: $name) {
      name
      missed
      change {
        id
        kind
        version
      }
    }
  }
`);

// Long enough to gather one transaction's events, short enough to feel immediate.
const COALESCE_MS = 120;

export function useRegistryEvents(name: string | null, onChange: () => void): void {
  const client = useClient();
  const callback = useRef(onChange);
  callback.current = onChange;
  const { epoch } = useLiveConnection();
  const firstEpoch = useRef(epoch);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const sub = client.subscription(RegistryEventsSubscription, { name }).subscribe((r) => {
      if (!r.data || timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        callback.current();
      }, COALESCE_MS);
    });
    return () => {
      if (timer !== null) clearTimeout(timer);
      sub.unsubscribe();
    };
  }, [client, name]);

  useEffect(() => {
    // The first connection is not a reconnection: the page's own fetch is current.
    if (epoch > Math.max(1, firstEpoch.current)) callback.current();
  }, [epoch]);
}
