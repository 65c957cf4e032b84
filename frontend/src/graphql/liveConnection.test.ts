import { describe, expect, it } from 'vitest';
import { getLiveConnection, liveConnectionEvents, reconnectDelayMs } from './liveConnection';

describe('live connection', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(reconnectDelayMs(0, () => 0.5)).toBe(300);
    expect(reconnectDelayMs(1, () => 0.5)).toBe(600);
    expect(reconnectDelayMs(3, () => 0.5)).toBe(2400);
    expect(reconnectDelayMs(30, () => 0.5)).toBe(10_000);
    expect(reconnectDelayMs(0, () => 0)).toBe(210);
    expect(reconnectDelayMs(0, () => 1)).toBe(390);
  });
  it('counts connections so views can tell a reconnect happened', () => {
    liveConnectionEvents.connecting(false);
    expect(getLiveConnection().state).toBe('connecting');
    liveConnectionEvents.connected();
    const first = getLiveConnection().epoch;
    expect(getLiveConnection().state).toBe('live');
    liveConnectionEvents.closed(true);
    expect(getLiveConnection()).toMatchObject({ state: 'reconnecting', retries: 1 });
    liveConnectionEvents.connecting(true);
    liveConnectionEvents.connected();
    expect(getLiveConnection()).toMatchObject({ state: 'live', epoch: first + 1, retries: 0 });
  });
});
