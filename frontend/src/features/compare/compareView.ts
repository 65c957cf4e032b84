/**
 * The compare view's state, all in the URL so a comparison is a link:
 *
 *   /compare?runs=a,b,c&x=step|wall|relative&smooth=0.6&log=1&hide=b&base=a
 *           &group=params:lr&band=std&m=loss&diff=all&t=1&pc=params:lr,metrics:acc
 *           &sx=params:lr&sy=metrics:acc&sc=params:model
 */
import { parseXAxisMode, type XAxisMode } from '../../components/charts/xAxis';
import { readList, writeList, writeString } from '../../lib/searchParams';

export const COMPARE_MAX_RUNS = 100;

export interface CompareView {
  runIds: string[];
  x: XAxisMode;
  /** EMA weight, 0 (off) … 0.99. */
  smoothing: number;
  logY: boolean;
  hidden: string[];
  baseline: string | null;
  /** `params:<key>` or `tags:<key>`; null: one line per run. */
  groupBy: string | null;
  band: 'minmax' | 'std';
  /** Metric search. */
  metricSearch: string;
  /** Diff: every row instead of only those that differ. */
  diffAll: boolean;
  transposed: boolean;
  /** Parallel-coordinates axes (`params:<key>` / `metrics:<key>`); null: defaults. */
  axes: string[] | null;
  scatterX: string | null;
  scatterY: string | null;
  scatterColour: string | null;
}

export function parseCompareView(p: URLSearchParams): CompareView {
  const smoothing = Number(p.get('smooth') ?? '0');
  const group = p.get('group');
  return {
    runIds: Array.from(new Set(readList(p, 'runs'))).slice(0, COMPARE_MAX_RUNS),
    x: parseXAxisMode(p.get('x')),
    smoothing: Number.isFinite(smoothing) ? Math.min(Math.max(smoothing, 0), 0.99) : 0,
    logY: p.get('log') === '1',
    hidden: readList(p, 'hide'),
    baseline: p.get('base') || null,
    groupBy: group && /^(params|tags):./.test(group) ? group : null,
    band: p.get('band') === 'std' ? 'std' : 'minmax',
    metricSearch: p.get('m') ?? '',
    diffAll: p.get('diff') === 'all',
    transposed: p.get('t') === '1',
    axes: p.has('pc') ? readList(p, 'pc') : null,
    scatterX: p.get('sx') || null,
    scatterY: p.get('sy') || null,
    scatterColour: p.get('sc') || null,
  };
}

export function writeCompareView(v: CompareView): URLSearchParams {
  const p = new URLSearchParams();
  writeList(p, 'runs', v.runIds);
  writeString(p, 'x', v.x, 'step');
  if (v.smoothing > 0) p.set('smooth', String(v.smoothing));
  if (v.logY) p.set('log', '1');
  writeList(p, 'hide', v.hidden);
  if (v.baseline) p.set('base', v.baseline);
  if (v.groupBy) p.set('group', v.groupBy);
  if (v.band !== 'minmax') p.set('band', v.band);
  writeString(p, 'm', v.metricSearch);
  if (v.diffAll) p.set('diff', 'all');
  if (v.transposed) p.set('t', '1');
  if (v.axes !== null) p.set('pc', v.axes.join(','));
  if (v.scatterX) p.set('sx', v.scatterX);
  if (v.scatterY) p.set('sy', v.scatterY);
  if (v.scatterColour) p.set('sc', v.scatterColour);
  return p;
}
