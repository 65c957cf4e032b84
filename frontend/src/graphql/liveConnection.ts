/**
 * The state of the one subscription socket, for the "live" indicator and for backfilling after
 * a reconnect. graphql-ws re-subscribes every active subscription on a new socket by itself;
 * what it cannot know is what the server published while no socket was open. `epoch` counts
 * successful connections: a view that sees it move knows it may have missed events and fetches
 * what came after the last point it holds.
 */
import { useSyncExternalStore } from 'react';

export type LiveState = 'idle' | 'connecting' | 'live' | 'reconnecting';

export interface LiveConnection {
  state: LiveState;
  /** Successful connections so far (1 after the first, 2 after the first reconnect…). */
  epoch: number;
  /** Consecutive failed attempts since the socket was last live. */
  retries: number;
}

let current: LiveConnection = { state: 'idle', epoch: 0, retries: 0 };
const listeners = new Set<() => void>();

function set(patch: Partial<LiveConnection>): void {
  current = { ...current, ...patch };
  for (const l of listeners) l();
}

/** Called by the socket's event hooks in client.ts. */
export const liveConnectionEvents = {
  connecting(isRetry: boolean) {
    set({ state: isRetry || current.epoch > 0 ? 'reconnecting' : 'connecting' });
  },
  connected() {
    set({ state: 'live', epoch: current.epoch + 1, retries: 0 });
  },
  closed(willRetry: boolean) {
    set({ state: willRetry ? 'reconnecting' : 'idle', retries: willRetry ? current.retries + 1 : 0 });
  },
};

export function getLiveConnection(): LiveConnection {
  return current;
}

export function subscribeLiveConnection(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useLiveConnection(): LiveConnection {
  return useSyncExternalStore(subscribeLiveConnection, getLiveConnection, getLiveConnection);
}

/**
 * Wait before reconnect attempt `retries` (0-based): exponential from 300 ms, capped at 10 s,
 * with ±30 % jitter so that many tabs of a restarted server do not reconnect in lockstep.
 */
export function reconnectDelayMs(retries: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 300 * 2 ** Math.min(retries, 10));
  return Math.round(base * (0.7 + 0.6 * random()));
}
