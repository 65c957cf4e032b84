import { describe, expect, it } from 'vitest';
import { groupSystemKeys, isSystemKey, parseSystemKey } from './systemMetrics';

describe('parseSystemKey', () => {
  it('reads single-machine keys as the client logs them', () => {
    expect(parseSystemKey('system/cpu_percent')).toMatchObject({ node: null, name: 'cpu_percent', pattern: 'cpu_percent' });
    expect(parseSystemKey('system/gpu3/power_w')).toMatchObject({ node: null, name: 'gpu3/power_w', pattern: 'gpu*/power_w' });
  });

  it('finds the node id before the metric name, slashes and all', () => {
    expect(parseSystemKey('system/node-a/net_recv_mb_s')).toMatchObject({ node: 'node-a', name: 'net_recv_mb_s' });
    expect(parseSystemKey('system/rack1/host2/gpu0/utilization')).toMatchObject({ node: 'rack1/host2', name: 'gpu0/utilization' });
  });

  it('keeps unknown system names whole and ignores training metrics', () => {
    expect(parseSystemKey('system/fan_rpm')).toMatchObject({ node: null, name: 'fan_rpm', pattern: null });
    expect(parseSystemKey('loss')).toBeNull();
    expect(isSystemKey('val/system/loss')).toBe(false);
  });
});

describe('groupSystemKeys', () => {
  it('overlays related series, GPUs together, in a fixed chart order', () => {
    const groups = groupSystemKeys([
      'system/gpu1/utilization',
      'system/disk_write_mb_s',
      'system/process_cpu_percent',
      'system/cpu_percent',
      'system/gpu0/utilization',
      'system/disk_read_mb_s',
      'system/gpu10/utilization',
    ]);
    expect(groups.map((g) => g.id)).toEqual(['cpu', 'disk', 'gpu_utilization']);
    expect(groups[0]?.series.map((s) => s.label)).toEqual(['cpu_percent', 'process_cpu_percent']);
    expect(groups[1]?.series.map((s) => s.label)).toEqual(['disk_read_mb_s', 'disk_write_mb_s']);
    expect(groups[2]?.series.map((s) => s.label)).toEqual(['gpu0/utilization', 'gpu1/utilization', 'gpu10/utilization']);
  });

  it('labels series by machine only when there are several', () => {
    const one = groupSystemKeys(['system/a/cpu_percent']);
    expect(one[0]?.series).toEqual([{ key: 'system/a/cpu_percent', label: 'cpu_percent' }]);
    const two = groupSystemKeys(['system/b/cpu_percent', 'system/a/cpu_percent', 'system/a/fan_rpm']);
    expect(two[0]?.series.map((s) => s.label)).toEqual(['a · cpu_percent', 'b · cpu_percent']);
    expect(two.map((g) => g.title)).toEqual(['CPU', 'a/fan_rpm']);
  });
});
