import { describe, expect, it } from 'vitest';
import { groupRuns, groupStats, NO_VALUE } from './grouping';

describe('grouping runs', () => {
  it('groups by value in first-seen order, missing values together', () => {
    const runs = [
      { id: 'a', lr: '0.1' },
      { id: 'b', lr: '0.01' },
      { id: 'c', lr: '0.1' },
      { id: 'd', lr: undefined },
    ];
    const g = groupRuns(runs, (r) => r.lr);
    expect(Array.from(g.entries())).toEqual([
      ['0.1', ['a', 'c']],
      ['0.01', ['b']],
      [NO_VALUE, ['d']],
    ]);
  });
});

describe('group statistics', () => {
  it('mean, min, max and std over members at shared steps', () => {
    const s = groupStats([
      { x: [0, 1, 2], y: [1, 2, 3] },
      { x: [0, 1, 2], y: [3, 4, 5] },
    ]);
    expect(s.x).toEqual([0, 1, 2]);
    expect(s.mean).toEqual([2, 3, 4]);
    expect(s.min).toEqual([1, 2, 3]);
    expect(s.max).toEqual([3, 4, 5]);
    expect(s.std).toEqual([1, 1, 1]);
    expect(s.count).toEqual([2, 2, 2]);
  });
  it('interpolates members that logged at different steps', () => {
    const s = groupStats([
      { x: [0, 10], y: [0, 10] },
      { x: [0, 5, 10], y: [2, 7, 12] },
    ]);
    expect(s.x).toEqual([0, 5, 10]);
    expect(s.mean).toEqual([1, 6, 11]); // member one interpolated to 5 at x=5
    expect(s.min).toEqual([0, 5, 10]);
  });
  it('a member counts only within its own range; gaps are skipped', () => {
    const s = groupStats([
      { x: [0, 1, 2, 3], y: [1, 1, null, 1] },
      { x: [0, 1], y: [3, 3] },
    ]);
    expect(s.count).toEqual([2, 2, 0, 1]);
    expect(s.mean).toEqual([2, 2, null, 1]);
    expect(s.max[3]).toBe(1);
  });
});
