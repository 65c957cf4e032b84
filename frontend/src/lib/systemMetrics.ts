/**
 * The keys the client's system-metrics sampler logs (`system/cpu_percent`,
 * `system/gpu0/power_w`, and `system/<node>/…` on multi-node runs), read back into the charts
 * the System tab draws. In lib/ because both the run page and the compare view group them.
 */

/** One chart of the System tab: which metric names it overlays, and its unit. */
export interface SystemChartSpec {
  id: string;
  title: string;
  unit: string;
  /** Metric names without prefix and node; `gpu*` matches every GPU index. */
  names: readonly string[];
}

export const SYSTEM_CHARTS: readonly SystemChartSpec[] = [
  { id: 'cpu', title: 'CPU', unit: '%', names: ['cpu_percent', 'process_cpu_percent'] },
  { id: 'memory', title: 'Memory', unit: 'MB', names: ['memory_used_mb', 'process_rss_mb'] },
  { id: 'memory_percent', title: 'Memory used', unit: '%', names: ['memory_percent'] },
  { id: 'disk', title: 'Disk', unit: 'MB/s', names: ['disk_read_mb_s', 'disk_write_mb_s'] },
  { id: 'network', title: 'Network', unit: 'MB/s', names: ['net_sent_mb_s', 'net_recv_mb_s'] },
  { id: 'gpu_utilization', title: 'GPU utilization', unit: '%', names: ['gpu*/utilization'] },
  { id: 'gpu_memory', title: 'GPU memory', unit: 'MB', names: ['gpu*/memory_used_mb'] },
  { id: 'gpu_power', title: 'GPU power', unit: 'W', names: ['gpu*/power_w'] },
];

const HOST_NAMES = new Set(SYSTEM_CHARTS.flatMap((c) => c.names).filter((n) => !n.startsWith('gpu*')));
const GPU_NAME = /^gpu(\d+)\/(utilization|memory_used_mb|power_w)$/;

export const SYSTEM_PREFIX = 'system/';

export function isSystemKey(key: string): boolean {
  return key.startsWith(SYSTEM_PREFIX);
}

export interface SystemKey {
  key: string;
  /** The machine (MLTRAIL_SYSTEM_METRICS_NODE_ID), or null on single-machine runs. */
  node: string | null;
  /** The metric name without prefix and node: `cpu_percent`, `gpu0/power_w`. */
  name: string;
  /** The chart it belongs on (one pattern for the same reading of every GPU), or null for a name we do not know. */
  pattern: string | null;
}

/** Splits a `system/` key into node and name; the name is recognised from the end, so a node
 * id may itself contain slashes. Null for keys outside `system/`. */
export function parseSystemKey(key: string): SystemKey | null {
  if (!isSystemKey(key)) return null;
  const rest = key.slice(SYSTEM_PREFIX.length);
  const parts = rest.split('/');
  const last = parts[parts.length - 1] as string;
  if (parts.length >= 2) {
    const gpu = `${parts[parts.length - 2]}/${last}`;
    const match = GPU_NAME.exec(gpu);
    if (match) {
      const node = parts.slice(0, -2).join('/') || null;
      return { key, node, name: gpu, pattern: `gpu*/${match[2]}` };
    }
  }
  if (HOST_NAMES.has(last)) {
    return { key, node: parts.slice(0, -1).join('/') || null, name: last, pattern: last };
  }
  return { key, node: null, name: rest, pattern: null };
}

/** A series in a system chart: its key and the legend label (node first on multi-node runs). */
export interface SystemSeriesRef {
  key: string;
  label: string;
}

export interface SystemChartGroup {
  id: string;
  title: string;
  unit: string;
  series: SystemSeriesRef[];
}

/** The charts to draw for these keys, in SYSTEM_CHARTS order, only those with data; keys we
 * do not recognise get a chart each at the end, so nothing logged is hidden. */
export function groupSystemKeys(keys: readonly string[]): SystemChartGroup[] {
  const parsed = keys.map(parseSystemKey).filter((k): k is SystemKey => k !== null);
  const multiNode = new Set(parsed.map((k) => k.node)).size > 1;
  const label = (k: SystemKey) => (k.node !== null && multiNode ? `${k.node} · ${k.name}` : k.name);
  const byLabel = (a: SystemSeriesRef, b: SystemSeriesRef) => a.label.localeCompare(b.label, undefined, { numeric: true });
  const groups: SystemChartGroup[] = [];
  for (const spec of SYSTEM_CHARTS) {
    const series = parsed
      .filter((k) => k.pattern !== null && spec.names.includes(k.pattern))
      .map((k) => ({ key: k.key, label: label(k), order: spec.names.indexOf(k.pattern as string) }))
      .sort((a, b) => a.order - b.order || byLabel(a, b))
      .map(({ key, label: l }) => ({ key, label: l }));
    if (series.length > 0) groups.push({ id: spec.id, title: spec.title, unit: spec.unit, series });
  }
  for (const k of parsed.filter((p) => p.pattern === null).sort((a, b) => a.key.localeCompare(b.key))) {
    groups.push({ id: k.key, title: k.name, unit: '', series: [{ key: k.key, label: k.name }] });
  }
  return groups;
}
