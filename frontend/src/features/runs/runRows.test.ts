import { describe, expect, it } from 'vitest';
import { arrangeRunTree, cellText, cellValue, tableToRunRows, type RunRow, type WireRunTable } from './runRows';

/** A runTable page of runs that each have the param lr and the metrics acc and loss. */
function page(runs: ReadonlyArray<{ id: string; parentId: string | null }>): WireRunTable {
  const each = <T>(value: T) => runs.map(() => value);
  return {
    runIds: runs.map((r) => r.id),
    experimentIds: each('e1'),
    names: runs.map((r) => `run-${r.id}`),
    statuses: each('FINISHED'),
    users: each(null),
    startTimes: each(1_700_000_000_000),
    endTimes: each(1_700_000_090_000),
    parentIds: runs.map((r) => r.parentId),
    params: [{ key: 'lr', values: each('0.01') }],
    tags: [],
    metrics: [
      { key: 'acc', values: each(0.912345678), steps: each(9), mins: each(0.1), maxs: each(0.95) },
      { key: 'loss', values: each('NaN'), steps: each(9), mins: each(0.2), maxs: each('Infinity') },
    ],
  };
}

function run(id: string, parentId: string | null = null): RunRow {
  const [row] = tableToRunRows(page([{ id, parentId }]));
  if (!row) throw new Error('no row');
  return row;
}

describe('rows from a runTable page', () => {
  const table: WireRunTable = {
    runIds: ['a', 'b', 'c'],
    experimentIds: ['1', '1', '2'],
    names: ['first', null, 'third'],
    statuses: ['FINISHED', 'RUNNING', 'FAILED'],
    users: ['ann', null, 'bob'],
    startTimes: [1_000, 2_000, 3_000],
    endTimes: [61_000, null, 3_500],
    parentIds: [null, 'a', null],
    params: [
      { key: 'lr', values: ['0.1', null, '0.3'] },
      { key: 'model', values: [null, 'rf', null] },
    ],
    tags: [{ key: 'team', values: [null, null, 'x'] }],
    metrics: [
      {
        key: 'acc',
        values: [0.9, null, 'NaN'],
        steps: [10, null, 3],
        mins: [0.1, null, null],
        maxs: [0.95, null, null],
      },
      {
        key: 'loss',
        values: [null, 'Infinity', '-Infinity'],
        steps: [null, 0, 7],
        mins: [null, 'NaN', -1],
        maxs: [null, 'Infinity', 2],
      },
    ],
  };
  const rows = tableToRunRows(table);

  it('gives row i of every column to the i-th run', () => {
    expect(rows.map((r) => [r.id, r.name, r.experimentId, r.status, r.user, r.parentId])).toEqual([
      ['a', 'first', '1', 'FINISHED', 'ann', null],
      ['b', null, '1', 'RUNNING', null, 'a'],
      ['c', 'third', '2', 'FAILED', 'bob', null],
    ]);
    expect(rows.map((r) => r.params.get('lr'))).toEqual(['0.1', undefined, '0.3']);
    expect(rows[2]?.tags.get('team')).toBe('x');
    expect(rows[0]?.metrics.get('acc')).toEqual({ value: 0.9, step: 10, min: 0.1, max: 0.95 });
    expect(rows[2]?.metrics.get('loss')).toEqual({ value: '-Infinity', step: 7, min: -1, max: 2 });
  });

  it('leaves out the keys a run does not have', () => {
    expect([...(rows[0]?.params.keys() ?? [])]).toEqual(['lr']);
    expect([...(rows[1]?.params.keys() ?? [])]).toEqual(['model']);
    expect(rows[0]?.tags.size).toBe(0);
    expect([...(rows[0]?.metrics.keys() ?? [])]).toEqual(['acc']);
    expect([...(rows[1]?.metrics.keys() ?? [])]).toEqual(['loss']);
  });

  it('keeps NaN and the infinities as their wire values, and null extremes as null', () => {
    expect(rows[1]?.metrics.get('loss')).toEqual({ value: 'Infinity', step: 0, min: 'NaN', max: 'Infinity' });
    expect(rows[2]?.metrics.get('acc')).toEqual({ value: 'NaN', step: 3, min: null, max: null });
    expect(cellText(rows[2]!, { kind: 'metrics', key: 'acc' })).toBe('NaN');
    expect(cellValue(rows[2]!, { kind: 'metrics.min', key: 'acc' })).toBeNull();
  });

  it('derives the duration from the end time, and none while running', () => {
    expect(rows.map((r) => [r.startTime, r.endTime, r.duration])).toEqual([
      [1_000, 61_000, 60_000],
      [2_000, null, null],
      [3_000, 3_500, 500],
    ]);
  });

  it('builds the rows the run objects of `runs` used to give', () => {
    // What toRunRow made of the same runs as `runs { nodes { ... } }` objects.
    expect(rows[1]).toEqual({
      id: 'b',
      name: null,
      experimentId: '1',
      status: 'RUNNING',
      startTime: 2_000,
      endTime: null,
      duration: null,
      user: null,
      parentId: 'a',
      params: new Map([['model', 'rf']]),
      tags: new Map(),
      metrics: new Map([['loss', { value: 'Infinity', step: 0, min: 'NaN', max: 'Infinity' }]]),
    } satisfies RunRow);
  });

  it('reads an empty page as no rows', () => {
    const empty = { ...page([]), params: [], metrics: [] };
    expect(tableToRunRows(empty)).toEqual([]);
  });
});

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
  it('derives the duration from start and end', () => {
    expect(r.duration).toBe(90_000);
  });
});
