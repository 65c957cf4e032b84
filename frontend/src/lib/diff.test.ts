import { describe, expect, it } from 'vitest';
import { diffRows, transpose, visibleDiffRows, type DiffRun } from './diff';

const run = (id: string, params: Record<string, string>, metrics: Record<string, [number, number, number]>, tags: Record<string, string> = {}): DiffRun => ({
  id,
  name: id,
  params: new Map(Object.entries(params)),
  tags: new Map(Object.entries(tags)),
  metrics: new Map(Object.entries(metrics).map(([k, [latest, min, max]]) => [k, { latest, min, max }])),
});

describe('diff of compared runs', () => {
  const runs = [
    run('a', { lr: '0.1', model: 'rf' }, { loss: [0.2, 0.1, 0.9] }, { team: 'x', 'mltrail.source': 'a.py' }),
    run('b', { lr: '0.01', model: 'rf' }, { loss: [0.3, 0.1, 0.8] }, { team: 'x', 'mltrail.source': 'b.py' }),
  ];
  it('lists params, metric latest/min/max and tags, marking what differs', () => {
    const rows = diffRows(runs);
    expect(rows.map((r) => `${r.section}:${r.label}:${r.differs}`)).toEqual([
      'params:lr:true',
      'params:model:false',
      'metrics:loss:true',
      'metrics:loss (min):false',
      'metrics:loss (max):true',
      'tags:team:false',
    ]);
  });
  it('a key one run lacks differs', () => {
    const rows = diffRows([run('a', { seed: '1' }, {}), run('b', {}, {})]);
    expect(rows[0]).toMatchObject({ label: 'seed', values: ['1', null], differs: true });
  });
  it('"only what differs" hides equal rows', () => {
    expect(visibleDiffRows(diffRows(runs), true).map((r) => r.label)).toEqual(['lr', 'loss', 'loss (max)']);
    expect(visibleDiffRows(diffRows(runs), false)).toHaveLength(6);
  });
  it('transposes to one row per run', () => {
    const t = transpose(visibleDiffRows(diffRows(runs), true), ['a', 'b']);
    expect(t.header).toEqual(['Run', 'lr', 'loss', 'loss (max)']);
    expect(t.body).toEqual([
      ['a', '0.1', 0.2, 0.9],
      ['b', '0.01', 0.3, 0.8],
    ]);
  });
  it('NaN equals NaN for the purpose of differing', () => {
    const rows = diffRows([run('a', {}, { l: [Number.NaN, 1, 1] }), run('b', {}, { l: [Number.NaN, 1, 1] })]);
    expect(rows[0]?.differs).toBe(false);
  });
});
