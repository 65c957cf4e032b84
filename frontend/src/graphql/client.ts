/**
 * The one data layer of the SPA: a single urql client for queries and mutations over HTTP
 * (POST /graphql) and subscriptions over WebSocket (graphql-transport-ws, via graphql-ws).
 *
 * urql rather than Apollo: its default document cache stores results per operation without
 * normalising them, so a 10,000-run page is kept as one JSON tree instead of 300,000 cache
 * records, and it takes codegen's TypedDocumentNode as-is. See README.md for the longer note.
 *
 * The socket reconnects forever with capped exponential backoff (a restarted server comes
 * back; a dashboard left open must follow it) and reports its state to liveConnection.ts.
 */
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';
import { actingUser, actingUserHeaders } from './actingUser';
import { liveConnectionEvents, reconnectDelayMs } from './liveConnection';

export const GRAPHQL_PATH = '/graphql';

function webSocketUrl(path: string): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}${path}`;
}

export function createMltrailClient(): Client {
  let activeSubscriptions = 0;
  // lazy: the socket opens on the first subscription only, so pages without live data never
  // hold a connection open.
  const ws = createWsClient({
    url: webSocketUrl(GRAPHQL_PATH),
    lazy: true,
    retryAttempts: Infinity,
    // A killed server shows up as an abnormal close or a refused connection: both are retried.
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(retries))),
    // Pings notice a half-open socket (a server that vanished without closing it).
    keepAlive: 10_000,
    // Browsers cannot set headers on a WebSocket: the acting user goes in connection_init.
    connectionParams: () => {
      const user = actingUser();
      return user ? { user } : {};
    },
    on: {
      connecting: (isRetry) => liveConnectionEvents.connecting(isRetry),
      connected: () => liveConnectionEvents.connected(),
      closed: () => liveConnectionEvents.closed(activeSubscriptions > 0),
    },
  });
  return new Client({
    url: GRAPHQL_PATH,
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              activeSubscriptions += 1;
              const dispose = ws.subscribe(input, sink);
              let done = false;
              return {
                unsubscribe() {
                  if (done) return;
                  done = true;
                  activeSubscriptions -= 1;
                  dispose();
                },
              };
            },
          };
        },
      }),
    ],
    preferGetMethod: false,
    // A function, so a name changed in the header applies to the next request without a reload.
    fetchOptions: () => ({ headers: actingUserHeaders() }),
  });
}
