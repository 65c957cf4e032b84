// Third-party JavaScript clients against a running mltrail server (driven by test_js_clients.py).
//
//   node clients.mjs PROTOCOL HTTP_URL RUN_ID
//
// PROTOCOL is `graphql-transport-ws` (the graphql-ws package) or `graphql-ws` (the legacy
// protocol, through subscriptions-transport-ws). It subscribes to metricsLogged for RUN_ID,
// logs batches with a step of 2^53 + 1 until one arrives through the subscription, reads the
// history back over HTTP with fetch + Response.json() (a real JSON.parse), and prints one JSON
// line describing what each path delivered. Subscription errors are printed the same way.
import { createClient } from 'graphql-ws';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';

const [protocol, httpUrl, runId, mode = 'stream'] = process.argv.slice(2);
const wsUrl = httpUrl.replace(/^http/, 'ws') + '/graphql';
const BIG = '9007199254740993'; // 2^53 + 1: as a JSON number, JSON.parse would make it ...992

const SUBSCRIPTION = `subscription($runIds: [ID!]) {
  metricsLogged(runIds: $runIds) { runId batchId keys steps timestamps values }
}`;

async function post(query, variables) {
  const response = await fetch(httpUrl + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return response.json(); // JSON.parse, as every browser and Node client does
}

function subscribe(onNext, onError) {
  const variables = { runIds: [runId] };
  if (protocol === 'graphql-transport-ws') {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    const stop = client.subscribe({ query: SUBSCRIPTION, variables }, {
      next: onNext,
      error: onError,
      complete: () => {},
    });
    return () => { stop(); client.dispose(); };
  }
  if (protocol === 'graphql-ws') {
    const client = new SubscriptionClient(wsUrl, { reconnect: false }, WebSocket);
    client.onError((e) => onError(e));
    const sub = client.request({ query: SUBSCRIPTION, variables }).subscribe({ next: onNext, error: onError });
    return () => { sub.unsubscribe(); client.close(); };
  }
  throw new Error(`unknown protocol ${protocol}`);
}

function errorsOf(e) {
  if (Array.isArray(e)) return e;
  if (e && Array.isArray(e.errors)) return e.errors;
  return [{ message: String(e?.message ?? e) }];
}

const timeout = setTimeout(() => {
  console.log(JSON.stringify({ protocol, timeout: true }));
  process.exit(2);
}, 20000);

let done = false;
let probe = 0;
const stop = subscribe(
  async (result) => {
    if (done) return;
    if (result.errors) {
      done = true;
      console.log(JSON.stringify({ protocol, errors: result.errors }));
      stop();
      clearTimeout(timeout);
      return;
    }
    const event = result.data.metricsLogged;
    done = true;
    const history = await post(
      'query($r: [ID!]!) { metricHistories(runIds: $r, keys: ["far"]) { steps timestamps } }',
      { r: [runId] },
    );
    const step = event.steps[0];
    const historyStep = history.data.metricHistories[0].steps.at(-1);
    console.log(JSON.stringify({
      protocol,
      batchId: event.batchId,
      eventStepType: typeof step,
      eventStepExact: BigInt(step) === 2n ** 53n + 1n,
      eventTimestamp: event.timestamps[0],
      historyStepType: typeof historyStep,
      historyStepExact: BigInt(historyStep) === 2n ** 53n + 1n,
    }));
    stop();
    clearTimeout(timeout);
  },
  (e) => {
    if (done) return;
    done = true;
    console.log(JSON.stringify({ protocol, errors: errorsOf(e) }));
    clearTimeout(timeout);
    process.exit(0);
  },
);

// A subscription is registered on the server some time after it is sent, and live events are
// not replayed: keep logging (a new batch each time) until one comes back through it.
if (mode === 'stream') {
  const tick = async () => {
    if (done) return;
    probe += 1;
    await post(
      `mutation($r: ID!, $b: String, $m: MetricBatchInput) { logBatch(runId: $r, batchId: $b, metrics: $m) { duplicate } }`,
      { r: runId, b: `js-${probe}`, m: { keys: ['far'], values: [1], steps: [BIG], timestamps: [1700000000000 + probe] } },
    );
    setTimeout(tick, 200);
  };
  setTimeout(tick, 100);
}
