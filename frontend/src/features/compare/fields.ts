/**
 * The fields the parallel coordinates and the scatter can plot: `params:<key>` (as logged, a
 * string that may be numeric) and `metrics:<key>` (the latest value).
 */
import { metricValueToNumber } from '../../graphql/metricValues';
import type { AxisValue } from './axes';
import type { ComparedRun } from './useCompareRuns';

export function fieldValue(run: ComparedRun, field: string): AxisValue {
  const colon = field.indexOf(':');
  const kind = field.slice(0, colon);
  const key = field.slice(colon + 1);
  if (kind === 'params') return run.params.get(key) ?? null;
  if (kind === 'tags') return run.tags.get(key) ?? null;
  if (kind === 'metrics') {
    const m = run.metrics.get(key);
    if (!m) return null;
    const n = metricValueToNumber(m.latest);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

export function fieldLabel(field: string): string {
  const colon = field.indexOf(':');
  return field.slice(colon + 1);
}

export function fieldOptions(runs: readonly ComparedRun[]): Array<{ id: string; label: string; group: string }> {
  const params = new Set<string>();
  const metrics = new Set<string>();
  for (const r of runs) {
    for (const k of r.params.keys()) params.add(k);
    for (const k of r.metrics.keys()) metrics.add(k);
  }
  return [
    ...Array.from(params).sort().map((k) => ({ id: `params:${k}`, label: k, group: 'Params' })),
    ...Array.from(metrics).sort().map((k) => ({ id: `metrics:${k}`, label: k, group: 'Metrics' })),
  ];
}

/** Default axes: params that vary (up to six), then up to three metrics. */
export function defaultAxes(runs: readonly ComparedRun[]): string[] {
  const options = fieldOptions(runs);
  const varies = (id: string) => new Set(runs.map((r) => String(fieldValue(r, id)))).size > 1;
  const params = options.filter((o) => o.group === 'Params' && varies(o.id)).slice(0, 6);
  const metrics = options.filter((o) => o.group === 'Metrics').slice(0, 3);
  return [...params, ...metrics].map((o) => o.id);
}
