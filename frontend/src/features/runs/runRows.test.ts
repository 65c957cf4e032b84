import { describe, expect, it } from 'vitest';
import { arrangeRunTree, cellText, cellValue, toRunRow, type RunRow } from './runRows';

function run(id: string, parentId: string | null = null): RunRow {
  return toRunRow({
    id,
    name: `run-${id}`,
    experimentId: 'e1',
    status: 'FINISHED',
    startTime: 1_700_000_000_000,
    endTime: 1_700_000_090_000,
    parentId,
    params: [{ key: 'lr', value: '0.01' }],
    tags: [],
    latestMetrics: [
      { key: 'acc', value: 0.912345678, step: 9, min: 0.1, max: 0.95 },
      { key: 'loss', value: 'NaN', step: 9, min: 0.2, max: 'Infinity' },
    ],
  });
}

describe('nested runs', () => {
  const runs = [run('a'), run('c1', 'a'), run('b'), run('c2', 'a'), run('g', 'c1'), run('orphan', 'missing')];

  it('hides children of collapsed parents and keeps the server order', () => {
    const rows = arrangeRunTree(runs, new Set());
    expect(rows.map((r) => r.run.id)).toEqual(['a', 'b', 'orphan']);
    expect(rows[0]?.childCount).toBe(2);
  });

  it('lists children under expanded parents, recursively, with depth', () => {
    const rows = arrangeRunTree(runs, new Set(['a', 'c1']));
    expect(rows.map((r) => [r.run.id, r.depth])).toEqual([
      ['a', 0],
      ['c1', 1],
      ['g', 2],
      ['c2', 1],
      ['b', 0],
      ['orphan', 0],
    ]);
  });

  it('survives a parent cycle', () => {
    const cyclic = [run('x', 'y'), run('y', 'x')];
    expect(arrangeRunTree(cyclic, new Set(['x', 'y'])).length).toBeLessThanOrEqual(2);
  });
});

describe('cell values', () => {
  const r = run('a');
  it('reads params, metrics and their extremes', () => {
    expect(cellValue(r, { kind: 'params', key: 'lr' })).toBe('0.01');
    expect(cellValue(r, { kind: 'metrics', key: 'acc' })).toBe(0.912345678);
    expect(cellValue(r, { kind: 'metrics.max', key: 'loss' })).toBe('Infinity');
    expect(cellValue(r, { kind: 'params', key: 'absent' })).toBeNull();
  });
  it('formats for display without losing NaN', () => {
    expect(cellText(r, { kind: 'metrics', key: 'acc' })).toBe('0.912346');
    expect(cellText(r, { kind: 'metrics', key: 'loss' })).toBe('NaN');
    expect(cellText(r, { kind: 'attributes', key: 'duration' })).toBe('1 min 30 s');
  });
  it('derives the duration when the server does not send it', () => {
    expect(r.duration).toBe(90_000);
  });
});
