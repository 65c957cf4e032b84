import { describe, expect, it } from 'vitest';
import { applyPatch, patchFromMetrics, patchFromRunChange } from './liveRows';
import type { RunRow } from './runRows';

const row = (): RunRow => ({
  id: 'r1',
  name: 'a',
  experimentId: 'e',
  status: 'RUNNING',
  startTime: 1000,
  endTime: null,
  duration: null,
  user: null,
  parentId: null,
  params: new Map(),
  tags: new Map(),
  metrics: new Map([['loss', { value: 0.5, step: 10, min: 0.4, max: 0.9 }]]),
});

describe('live patches of the runs table', () => {
  it('a status change sets status, end time and duration', () => {
    const shown = applyPatch(row(), patchFromRunChange(undefined, { status: 'FINISHED', endTime: 4000 }));
    expect(shown).toMatchObject({ status: 'FINISHED', endTime: 4000, duration: 3000 });
  });

  it('points update latest (highest step), min and max', () => {
    const base = row();
    let patch = patchFromMetrics(undefined, base, { keys: ['loss', 'loss', 'acc'], steps: [11, 12, 0], values: [0.3, 0.35, 0.7] });
    expect(applyPatch(base, patch).metrics.get('loss')).toEqual({ value: 0.35, step: 12, min: 0.3, max: 0.9 });
    expect(applyPatch(base, patch).metrics.get('acc')).toEqual({ value: 0.7, step: 0, min: 0.7, max: 0.7 });
    // An older point does not replace the latest value; NaN does not become a min.
    patch = patchFromMetrics(patch, base, { keys: ['loss', 'loss'], steps: [5, 13], values: [2, 'NaN'] });
    expect(applyPatch(base, patch).metrics.get('loss')).toEqual({ value: 'NaN', step: 13, min: 0.3, max: 2 });
  });

  it('a row fetched later that is ahead of the patch wins', () => {
    const patch = patchFromMetrics(undefined, row(), { keys: ['loss'], steps: [11], values: [0.3] });
    const newer = row();
    newer.metrics.set('loss', { value: 0.1, step: 20, min: 0.1, max: 0.9 });
    expect(applyPatch(newer, patch).metrics.get('loss')?.step).toBe(20);
  });

  it('an unpatched row is returned as is (memoised rows do not re-render)', () => {
    const r = row();
    expect(applyPatch(r, undefined)).toBe(r);
  });
});
