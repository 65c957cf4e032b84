/**
 * Follows `registryEvents` for one model (or all) and calls back on each change made anywhere
 * (another tab, the CLI, a CI job), so an open page refetches instead of going stale. The
 * views refetch rather than patch: a change can move several versions at once (archive the
 * holders), and the server's answer is the one truth.
 */
import { useEffect, useRef } from 'react';
import { useClient } from 'urql';
import { graphql } from '../../graphql/generated';

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

export function useRegistryEvents(name: string | null, onChange: (modelName: string) => void): void {
  const client = useClient();
  const callback = useRef(onChange);
  callback.current = onChange;
  useEffect(() => {
    const sub = client.subscription(RegistryEventsSubscription, { name }).subscribe((r) => {
      if (r.data) callback.current(r.data.registryEvents.name);
    });
    return () => sub.unsubscribe();
  }, [client, name]);
}
