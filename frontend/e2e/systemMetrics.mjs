/**
 * System metrics for the e2e data set: what `log_system_metrics=True` logs on a machine with
 * two GPUs, sampled every 10 s over a run (same keys, same step and timestamp per sample).
 */

const HOST = ['cpu_percent', 'process_cpu_percent', 'memory_used_mb', 'process_rss_mb', 'memory_percent',
  'disk_read_mb_s', 'disk_write_mb_s', 'net_sent_mb_s', 'net_recv_mb_s'];
const GPU = ['utilization', 'memory_used_mb', 'power_w'];
export const SYSTEM_KEYS = [...HOST, ...[0, 1].flatMap((i) => GPU.map((g) => `gpu${i}/${g}`))].map((k) => `system/${k}`);

/** A plausible top of each series, so the screenshot reads like a real machine. */
function scale(key) {
  if (key.endsWith('_mb_s')) return 400;
  if (key.endsWith('memory_used_mb')) return 24_000;
  if (key.endsWith('rss_mb')) return 6_000;
  if (key.endsWith('power_w')) return 300;
  return 100;
}

export async function seedSystemMetrics(client, runId, startTime, samples = 60) {
  const metrics = { keys: [], steps: [], values: [], timestamps: [] };
  for (let step = 0; step < samples; step++) {
    const busy = 0.5 + 0.45 * Math.sin(step / 6); // a data loader that stalls now and then
    for (const [k, key] of SYSTEM_KEYS.entries()) {
      metrics.keys.push(key);
      metrics.steps.push(step);
      metrics.timestamps.push(startTime + (step + 1) * 10_000);
      metrics.values.push(Number((scale(key) * Math.min(1, busy * (0.6 + (k % 4) / 10))).toFixed(3)));
    }
  }
  await client.logBatch(runId, { metrics });
}
