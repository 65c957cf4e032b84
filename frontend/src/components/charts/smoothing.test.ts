import { describe, expect, it } from 'vitest';
import { emaSmooth } from './smoothing';

describe('EMA smoothing', () => {
  it('weight 0 leaves the series unchanged', () => {
    expect(emaSmooth([1, 5, null, 2], 0)).toEqual([1, 5, null, 2]);
  });
  it('is debiased: the first point is kept and a constant stays constant', () => {
    const s = emaSmooth([3, 3, 3, 3], 0.9) as number[];
    for (const v of s) expect(v).toBeCloseTo(3, 12);
  });
  it('matches the TensorBoard formula', () => {
    const w = 0.6;
    const s = emaSmooth([1, 2, 4], w) as number[];
    // last: 0.4, 0.4*0.6+0.8=1.04, 1.04*0.6+1.6=2.224; debias by 1-w^n
    expect(s[0]).toBeCloseTo(1, 12);
    expect(s[1]).toBeCloseTo(1.04 / (1 - 0.36), 12);
    expect(s[2]).toBeCloseTo(2.224 / (1 - 0.216), 12);
  });
  it('keeps gaps as gaps without resetting the average', () => {
    const s = emaSmooth([2, null, 2, Number.NaN, 2], 0.5);
    expect(s[1]).toBeNull();
    expect(s[3]).toBeNull();
    expect(s[4]).toBeCloseTo(2, 12);
  });
  it('smooths noise towards the mean', () => {
    const noisy = Array.from({ length: 200 }, (_, i) => (i % 2 ? 1 : -1));
    const s = emaSmooth(noisy, 0.95) as number[];
    expect(Math.abs(s[199] as number)).toBeLessThan(0.1);
  });
});
