import { describe, expect, it } from 'vitest';
import { pointsForWidth, stepRange, toChartData } from './chartData';

describe('chart data shaping', () => {
  it('passes a single columnar series through, NaN and infinities as gaps', () => {
    const d = toChartData([{ label: 'loss', steps: [0, 1, 2, 3], values: [1.5, 'NaN', 'Infinity', 0.5] }]);
    expect(d.x).toEqual([0, 1, 2, 3]);
    expect(d.ys).toEqual([[1.5, null, null, 0.5]]);
    expect(d.nonFinite).toEqual([2]);
  });

  it('sorts a series the server sent out of order', () => {
    const d = toChartData([{ label: 'acc', steps: [2, 0, 1], values: [0.3, 0.1, 0.2] }]);
    expect(d.x).toEqual([0, 1, 2]);
    expect(d.ys[0]).toEqual([0.1, 0.2, 0.3]);
  });

  it('aligns several series on the union of their steps', () => {
    const d = toChartData([
      { label: 'a', steps: [0, 2, 4], values: [1, 2, 3] },
      { label: 'b', steps: [1, 2], values: [10, '-Infinity'] },
    ]);
    expect(d.x).toEqual([0, 1, 2, 4]);
    expect(d.ys).toEqual([
      [1, null, 2, 3],
      [null, 10, null, null],
    ]);
    expect(d.nonFinite).toEqual([0, 1]);
    expect(d.labels).toEqual(['a', 'b']);
  });

  it('handles a large series in one pass', () => {
    const n = 200_000;
    const steps = Array.from({ length: n }, (_, i) => i);
    const values = steps.map((i) => Math.sin(i));
    const t0 = performance.now();
    const d = toChartData([{ label: 'big', steps, values }]);
    expect(d.x.length).toBe(n);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('asks the server for about two points per pixel, bounded', () => {
    expect(pointsForWidth(600)).toBe(1200);
    expect(pointsForWidth(10)).toBe(200);
    expect(pointsForWidth(10_000)).toBe(4000);
  });

  it('turns a drag into an integer step range', () => {
    expect(stepRange(10.4, 3.2)).toEqual([3, 11]);
    expect(stepRange(5, 5)).toBeNull();
    expect(stepRange(Number.NaN, 3)).toBeNull();
  });
});
