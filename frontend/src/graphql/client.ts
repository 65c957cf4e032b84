/**
 * The one data layer of the SPA: a single urql client for queries and mutations over HTTP
 * (POST /graphql) and subscriptions over WebSocket (graphql-transport-ws, via graphql-ws).
 *
 * urql rather than Apollo: its default document cache stores results per operation without
 * normalising them, so a 10,000-run page is kept as one JSON tree instead of 300,000 cache
 * records, and it takes codegen's TypedDocumentNode as-is. See README.md for the longer note.
 */
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';

export const GRAPHQL_PATH = '/graphql';

function webSocketUrl(path: string): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss:' : 'ws:'}//${host}${path}`;
}

export function createMltrailClient(): Client {
  // lazy: the socket opens on the first subscription only, so pages without live data never
  // hold a connection open.
  const ws = createWsClient({ url: webSocketUrl(GRAPHQL_PATH), lazy: true, retryAttempts: 5 });
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
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    preferGetMethod: false,
  });
}
