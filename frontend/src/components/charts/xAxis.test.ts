import { describe, expect, it } from 'vitest';
import { alignXY, interpolateAt, parseXAxisMode, toXY } from './xAxis';

const series = { steps: [0, 10, 20], timestamps: [5_000, 7_000, 12_000], values: [1, 2, 3] };

describe('x-axis modes', () => {
  it('step uses the steps', () => {
    expect(toXY(series, 'step')).toEqual({ x: [0, 10, 20], y: [1, 2, 3] });
  });
  it('wall time is the timestamp in seconds', () => {
    expect(toXY(series, 'wall').x).toEqual([5, 7, 12]);
  });
  it('relative time counts from the run start, or from the first point', () => {
    expect(toXY(series, 'relative', 4_000).x).toEqual([1, 3, 8]);
    expect(toXY(series, 'relative').x).toEqual([0, 2, 7]);
  });
  it('sorts by the chosen axis', () => {
    const s = { steps: [2, 1, 0], timestamps: [1000, 3000, 2000], values: [20, 10, 0] };
    expect(toXY(s, 'step')).toEqual({ x: [0, 1, 2], y: [0, 10, 20] });
    expect(toXY(s, 'wall')).toEqual({ x: [1, 2, 3], y: [20, 0, 10] });
  });
  it('parses the URL value with step as the default', () => {
    expect(parseXAxisMode('relative')).toBe('relative');
    expect(parseXAxisMode('bogus')).toBe('step');
    expect(parseXAxisMode(null)).toBe('step');
  });
});

describe('alignment of several runs', () => {
  it('joins on the union of x; missing is undefined (spanned), NaN is null (a gap)', () => {
    const a = { x: [0, 2, 4], y: [1, null, 3] };
    const b = { x: [1, 2, 5], y: [10, 20, 50] };
    const { x, ys } = alignXY([a, b]);
    expect(x).toEqual([0, 1, 2, 4, 5]);
    expect(ys[0]).toEqual([1, undefined, null, 3, undefined]);
    expect(ys[1]).toEqual([undefined, 10, 20, undefined, 50]);
  });
  it('aligns runs with different relative-time origins', () => {
    const r1 = toXY({ steps: [0, 1], timestamps: [10_000, 11_000], values: [1, 2] }, 'relative', 10_000);
    const r2 = toXY({ steps: [0, 1], timestamps: [50_000, 51_000], values: [3, 4] }, 'relative', 50_000);
    const { x, ys } = alignXY([r1, r2]);
    expect(x).toEqual([0, 1]);
    expect(ys).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
  it('interpolates linearly inside a series and not outside it', () => {
    const s = { x: [0, 10, 20], y: [0, 100, null] };
    expect(interpolateAt(s, 5).value).toBe(50);
    expect(interpolateAt(s, 10).value).toBe(100);
    expect(interpolateAt(s, 15).value).toBeNull();
    expect(interpolateAt(s, -1).value).toBeNull();
    expect(interpolateAt(s, 21).value).toBeNull();
  });
});
