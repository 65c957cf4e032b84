import { describe, expect, it } from 'vitest';
import { parseCompareView, writeCompareView } from './compareView';

describe('compare view state in the URL', () => {
  it('round-trips and leaves defaults out', () => {
    const v = parseCompareView(new URLSearchParams('runs=a,b,a&x=relative&smooth=0.6&log=1&hide=b&base=a&group=params:lr&band=std&pc=params:lr,metrics:acc'));
    expect(v).toMatchObject({ runIds: ['a', 'b'], x: 'relative', smoothing: 0.6, logY: true, hidden: ['b'], baseline: 'a', groupBy: 'params:lr', band: 'std', axes: ['params:lr', 'metrics:acc'] });
    expect(parseCompareView(writeCompareView(v))).toEqual(v);
    expect(writeCompareView(parseCompareView(new URLSearchParams('runs=a,b'))).toString()).toBe('runs=a%2Cb');
  });
  it('rejects bad values', () => {
    const v = parseCompareView(new URLSearchParams('x=sideways&smooth=7&group=attributes:x'));
    expect(v).toMatchObject({ x: 'step', smoothing: 0.99, groupBy: null });
  });
});
