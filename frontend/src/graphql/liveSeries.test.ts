import { describe, expect, it } from 'vitest';
import { appendBatch, backfillFrom, mergeBackfill, newLiveSeries, seriesId, type LiveSeries } from './liveSeries';

const fetched = { steps: [0, 1, 2], timestamps: [10, 11, 12], values: [1, 'NaN', 3] as Array<number | string> };

describe('live series', () => {
  it('starts from a fetched history, NaN as a counted gap', () => {
    const s = newLiveSeries('r', 'loss', { ...fetched, downsampled: false, totalPoints: 3 });
    expect(s.steps).toEqual([0, 1, 2]);
    expect(s.y).toEqual([1, null, 3]);
    expect(s.nonFinite).toBe(1);
  });

  it('appends live points in place, past the last step only', () => {
    const store = new Map<string, LiveSeries>([[seriesId('r', 'loss'), newLiveSeries('r', 'loss', fetched)]]);
    const before = store.get(seriesId('r', 'loss'))!.steps;
    const grown = appendBatch(store, {
      runId: 'r',
      keys: ['loss', 'loss', 'loss', 'acc'],
      steps: [2, 3, 4, 0],
      timestamps: [12, 13, 14, 10],
      values: [3, 4, 'Infinity', 0.5],
    });
    const s = store.get(seriesId('r', 'loss'))!;
    expect(s.steps).toBe(before); // same array: the chart is fed, not rebuilt
    expect(s.steps).toEqual([0, 1, 2, 3, 4]);
    expect(s.y).toEqual([1, null, 3, 4, null]);
    expect(s.appended).toBe(2);
    expect(Array.from(grown)).toEqual([seriesId('r', 'loss')]);
    expect(store.has(seriesId('r', 'acc'))).toBe(false); // not accepted
  });

  it('starts series for new metrics when accepted, and drops points past a zoom', () => {
    const store = new Map<string, LiveSeries>();
    appendBatch(
      store,
      { runId: 'r', keys: ['acc', 'acc'], steps: [5, 50], timestamps: [1, 2], values: [0.1, 0.2] },
      { accept: (_r, k) => k === 'acc', maxStep: 10 },
    );
    expect(store.get(seriesId('r', 'acc'))!.steps).toEqual([5]);
  });

  it('a backfill overlapping the stream adds no duplicate and leaves no gap', () => {
    const s = newLiveSeries('r', 'loss', fetched);
    // Live: step 3 arrived; 4..6 were logged while the socket was down; 7 arrives live later.
    appendBatch(new Map([[seriesId('r', 'loss'), s]]), { runId: 'r', keys: ['loss'], steps: [3], timestamps: [13], values: [3] });
    expect(backfillFrom([s])).toBe(4);
    const added = mergeBackfill(s, { steps: [3, 4, 5, 6], timestamps: [13, 14, 15, 16], values: [3, 4, 5, 6] });
    expect(added).toBe(3);
    appendBatch(new Map([[seriesId('r', 'loss'), s]]), { runId: 'r', keys: ['loss', 'loss'], steps: [6, 7], timestamps: [16, 17], values: [6, 7] });
    expect(s.steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('the catch-up starts after the earliest last step', () => {
    const a = newLiveSeries('a', 'loss', { steps: [0, 9], timestamps: [0, 0], values: [1, 1] });
    const b = newLiveSeries('b', 'loss', { steps: [0, 4], timestamps: [0, 0], values: [1, 1] });
    expect(backfillFrom([a, b])).toBe(5);
    expect(backfillFrom([newLiveSeries('c', 'x', { steps: [], timestamps: [], values: [] })])).toBe(0);
  });
});
