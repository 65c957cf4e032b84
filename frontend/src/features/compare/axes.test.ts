import { describe, expect, it } from 'vitest';
import { axisPosition, brushedRuns, buildAxis } from './axes';

describe('parallel-coordinates axes', () => {
  it('numbers (also numeric strings) make a numeric axis', () => {
    const axis = buildAxis(['0.1', '0.01', 0.5, null]);
    expect(axis).toEqual({ kind: 'numeric', min: 0.01, max: 0.5 });
    expect(axisPosition(axis, 0.5)).toBe(1);
    expect(axisPosition(axis, null)).toBeNull();
  });
  it('anything else makes a categorical axis, evenly spread', () => {
    const axis = buildAxis(['xgb', 'rf', 'lr', 'rf']);
    expect(axis).toEqual({ kind: 'categorical', categories: ['lr', 'rf', 'xgb'] });
    expect(axisPosition(axis, 'rf')).toBe(0.5);
    expect(axisPosition(axis, 'svm')).toBeNull();
  });
  it('brushing keeps the runs inside every brush', () => {
    const runs = [
      { id: 'a', values: new Map<string, string | number>([['lr', 0.1], ['model', 'rf']]) },
      { id: 'b', values: new Map<string, string | number>([['lr', 0.5], ['model', 'rf']]) },
      { id: 'c', values: new Map<string, string | number>([['lr', 0.3], ['model', 'xgb']]) },
    ];
    const axes = new Map([
      ['lr', buildAxis([0.1, 0.5, 0.3])],
      ['model', buildAxis(['rf', 'rf', 'xgb'])],
    ]);
    expect(brushedRuns(runs, axes, new Map())).toEqual(new Set(['a', 'b', 'c']));
    expect(brushedRuns(runs, axes, new Map([['lr', { lo: 0.6, hi: 0 }]]))).toEqual(new Set(['a', 'c']));
    expect(brushedRuns(runs, axes, new Map([['lr', { lo: 0, hi: 0.6 }], ['model', { lo: 0, hi: 0.2 }]]))).toEqual(new Set(['a']));
  });
});
