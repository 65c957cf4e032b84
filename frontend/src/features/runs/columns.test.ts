import { describe, expect, it } from 'vitest';
import { columnExpression, defaultColumns, orderByExpression, parseColumnId, quoteKey } from './columns';

describe('column ids and search-language expressions', () => {
  it('parses ids at the first colon only', () => {
    expect(parseColumnId('params:a:b')).toEqual({ kind: 'params', key: 'a:b' });
    expect(parseColumnId('metrics.max:acc')).toEqual({ kind: 'metrics.max', key: 'acc' });
    expect(parseColumnId('bogus:x')).toBeNull();
    expect(parseColumnId('params:')).toBeNull();
    expect(parseColumnId('attributes:not_an_attribute')).toBeNull();
  });

  it('quotes keys that are not identifiers', () => {
    expect(quoteKey('lr')).toBe('lr');
    expect(quoteKey('val.loss')).toBe('`val.loss`');
    expect(quoteKey('odd`key')).toBe('`odd``key`');
  });

  it('builds orderBy expressions the server understands', () => {
    expect(orderByExpression({ kind: 'metrics', key: 'acc' }, true)).toBe('metrics.acc DESC');
    expect(orderByExpression({ kind: 'metrics.min', key: 'loss' }, false)).toBe('metrics.loss.min ASC');
    expect(orderByExpression({ kind: 'params', key: 'lr' }, false)).toBe('params.lr ASC');
    expect(columnExpression({ kind: 'attributes', key: 'start_time' })).toBe('attributes.start_time');
    expect(columnExpression({ kind: 'tags', key: 'mltrail.user' })).toBe('tags.`mltrail.user`');
  });

  it('defaults to attributes, six metrics and the params', () => {
    const cols = defaultColumns(
      { metricKeys: ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'], paramKeys: ['p1'] },
      true,
    );
    expect(cols).toContain('attributes:experiment');
    expect(cols.filter((c) => c.startsWith('metrics:'))).toHaveLength(6);
    expect(cols.at(-1)).toBe('params:p1');
  });

  it('puts the params that vary across the page first, then every tag but the system ones', () => {
    const run = (params: Record<string, string>, tags: Record<string, string>) => ({
      params: new Map(Object.entries(params)),
      tags: new Map(Object.entries(tags)),
    });
    const runs = [
      run({ a: '1', b: 'x', lr: '0.1' }, { team: 'v', 'mltrail.source': 's' }),
      run({ a: '1', b: 'x', lr: '0.01' }, { team: 'g', owner: 'ana' }),
    ];
    const cols = defaultColumns({ metricKeys: [], paramKeys: ['a', 'b', 'lr'], tagKeys: ['mltrail.source', 'owner', 'team'] }, false, runs);
    expect(cols.filter((c) => c.startsWith('params:'))).toEqual(['params:lr', 'params:a', 'params:b']);
    expect(cols.filter((c) => c.startsWith('tags:'))).toEqual(['tags:owner', 'tags:team']);
  });
});
