/**
 * The compare view and live updates in the browser (issue 15), measured, not asserted. Run by
 * `node bench/dashboard.mjs --compare-live` (or imported with the server helpers passed in):
 *
 *   - overlay of 20 runs x 100,000 points: navigation -> every line drawn (time to first draw);
 *   - live latency: a `logBatch` response in Node -> the frame in which the run page's chart
 *     shows that point (MutationObserver on the panel's last step, then the next animation
 *     frame), p50 / p99 over 200 single-point updates.
 */

const OVERLAY_RUNS = 20;
const OVERLAY_POINTS = 100_000;
const LIVE_UPDATES = 200;

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function seedOverlay(client, log) {
  const t0 = Date.now();
  const exp = await client.createExperiment(`bench-compare-${Date.now()}`);
  const base = Date.UTC(2026, 0, 1);
  const ids = [];
  for (let r = 0; r < OVERLAY_RUNS; r++) {
    const run = await client.createRun({ experimentId: exp.id, name: `seed-${r}`, startTime: base + r * 1000 });
    const steps = Array.from({ length: OVERLAY_POINTS }, (_, s) => s);
    const values = steps.map((s) => Math.round((Math.exp(-s / (20_000 + r * 1000)) + 0.03 * Math.sin(s / 300 + r) + 0.01 * Math.sin(s * 1.7)) * 1e6) / 1e6);
    await client.logBatch(run.id, { metrics: { keys: steps.map(() => 'loss'), steps, values, timestamps: steps.map((s) => base + r * 1000 + s * 10) } });
    await client.finishRun(run.id, 'FINISHED');
    ids.push(run.id);
  }
  log(`seeded ${OVERLAY_RUNS} runs x ${OVERLAY_POINTS.toLocaleString()} points in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { exp, ids, seedMs: Date.now() - t0 };
}

export async function measureCompareAndLive({ baseUrl, client, launchChromium, log = console.error }) {
  const { exp, ids, seedMs } = await seedOverlay(client, log);
  const browser = await launchChromium();
  const results = { overlayRuns: OVERLAY_RUNS, overlayPointsPerRun: OVERLAY_POINTS, seedMs };
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    // Warm the HTTP cache for the bundle and the compare chunk.
    await page.goto(`${baseUrl}/compare?runs=${ids.slice(0, 2).join(',')}`);
    await page.locator('[data-testid=overlay-panel][data-drawn=true]').first().waitFor({ timeout: 60_000 });

    const draws = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${baseUrl}/compare?runs=${ids.join(',')}`);
      await page.locator('[data-testid=overlay-panel][data-metric=loss][data-drawn=true]').waitFor({ timeout: 60_000 });
      const r = await page.evaluate(() => {
        const p = document.querySelector('[data-testid=overlay-panel][data-metric=loss]');
        return { lines: Number(p.getAttribute('data-lines')), points: Number(p.getAttribute('data-points')) };
      });
      draws.push(r);
    }
    // The panel turns data-drawn in the commit after uPlot's first draw: polled every frame from
    // navigation start (no hook in the app).
    const timed = [];
    const split = [];
    for (let i = 0; i < 3; i++) {
      await page.goto('about:blank');
      await page.goto(`${baseUrl}/compare?runs=${ids.join(',')}`, { waitUntil: 'commit' });
      const r = await page.evaluate(
        () =>
          new Promise((ok) => {
            const tick = () => {
              if (document.querySelector('[data-testid=overlay-panel][data-metric=loss][data-drawn=true]')) {
                const drawn = performance.now();
                // The largest GraphQL response is the histories: when it started and ended.
                const gql = performance.getEntriesByType('resource').filter((e) => e.name.includes('/graphql'));
                const big = gql.sort((a, b) => b.encodedBodySize - a.encodedBodySize)[0];
                ok({ drawn, start: big?.startTime ?? 0, end: big?.responseEnd ?? 0, bytes: big?.encodedBodySize ?? 0 });
              } else requestAnimationFrame(tick);
            };
            tick();
          }),
      );
      timed.push(Math.round(r.drawn));
      split.push({ requestStart: Math.round(r.start), responseEnd: Math.round(r.end), bytes: r.bytes });
    }
    results.overlayFirstDrawMs = timed;
    results.overlaySplit = split;
    results.overlayLines = draws[0].lines;
    results.overlayPointsDrawn = draws[0].points;
    // The request alone, from Node.
    const req = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'query($r:[ID!]!,$n:Int){metricHistories(runIds:$r,keys:["loss"],maxPoints:$n){steps timestamps values downsampled}}',
          variables: { r: ids, n: Math.round(draws[0].points / OVERLAY_RUNS) },
        }),
      });
      await r.json();
      req.push(Math.round(performance.now() - t0));
    }
    results.overlayRequestMs = req;

    // Live latency on the run page.
    const run = await client.createRun({ experimentId: exp.id, name: 'live-bench', startTime: Date.now() });
    await client.logBatch(run.id, { metrics: { keys: ['loss'], steps: [0], values: [1], timestamps: [Date.now()] } });
    await page.goto(`${baseUrl}/runs/${run.id}?tab=metrics`);
    await page.locator('[data-testid=live-indicator][data-state=live]').waitFor();
    await page.locator('[data-testid=metric-panel][data-metric=loss]').waitFor();
    await page.evaluate(() => {
      window.__drawnAt = {};
      const panel = document.querySelector('[data-testid=metric-panel][data-metric=loss]');
      new MutationObserver(() => {
        const step = panel.getAttribute('data-last-step');
        if (step && !(step in window.__drawnAt)) {
          // The chart's canvas is drawn in the same task; the next frame is when it is painted.
          requestAnimationFrame(() => {
            window.__drawnAt[step] = Date.now();
          });
        }
      }).observe(panel, { attributes: true, attributeFilter: ['data-last-step'] });
    });
    // Let the subscription settle after the page's first connection.
    await new Promise((r) => setTimeout(r, 500));
    const responded = {};
    for (let k = 1; k <= LIVE_UPDATES; k++) {
      await client.logBatch(run.id, { metrics: { keys: ['loss'], steps: [k], values: [1 / (k + 1)], timestamps: [Date.now()] } });
      responded[k] = Date.now();
      await new Promise((r) => setTimeout(r, 40));
    }
    await page.waitForFunction((n) => String(n) in window.__drawnAt, LIVE_UPDATES, { timeout: 30_000 });
    const drawnAt = await page.evaluate(() => window.__drawnAt);
    const lat = [];
    let missing = 0;
    for (let k = 1; k <= LIVE_UPDATES; k++) {
      if (drawnAt[k] === undefined) missing++;
      else lat.push(drawnAt[k] - responded[k]);
    }
    results.liveUpdates = LIVE_UPDATES;
    results.liveCoalesced = missing; // points drawn in the same frame as the next one
    results.liveLatencyP50Ms = quantile(lat, 0.5);
    results.liveLatencyP99Ms = quantile(lat, 0.99);
    results.liveLatencyMaxMs = Math.max(...lat);
    await client.finishRun(run.id, 'FINISHED');

    // Responsiveness: a run logging 1,000 points/s across 10 metrics (a 100-point batch every
    // 100 ms) for 5 s while its metrics tab is open: frame times and long tasks in the page.
    const busy = await client.createRun({ experimentId: exp.id, name: 'busy', startTime: Date.now() });
    const keys = Array.from({ length: 10 }, (_, m) => `m${m}`);
    await client.logBatch(busy.id, { metrics: { keys, steps: keys.map(() => 0), values: keys.map(() => 1), timestamps: keys.map(() => Date.now()) } });
    await page.goto(`${baseUrl}/runs/${busy.id}?tab=metrics`);
    await page.locator('[data-testid=live-indicator][data-state=live]').waitFor();
    await page.locator('[data-testid=metric-panel][data-metric=m9]').waitFor();
    const framesDone = page.evaluate(
      () =>
        new Promise((ok) => {
          const times = [];
          let longTasks = 0;
          const obs = new PerformanceObserver((l) => (longTasks += l.getEntries().length));
          try {
            obs.observe({ type: 'longtask' });
          } catch {}
          let last = performance.now();
          const t0 = last;
          const frame = (now) => {
            times.push(now - last);
            last = now;
            if (now - t0 < 5000) requestAnimationFrame(frame);
            else {
              obs.disconnect();
              const sorted = times.slice(1).sort((a, b) => a - b);
              ok({
                fps: Math.round((1000 * sorted.length) / sorted.reduce((a, b) => a + b, 0)),
                p95FrameMs: Math.round(sorted[Math.floor(sorted.length * 0.95)] * 10) / 10,
                longTasks,
                lastStep: document.querySelector('[data-testid=metric-panel][data-metric=m0]')?.getAttribute('data-last-step'),
              });
            }
          };
          requestAnimationFrame(frame);
        }),
    );
    let step = 1;
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const t = Date.now();
      const ks = [];
      const steps = [];
      for (let j = 0; j < 10; j++) for (const k of keys) {
        ks.push(k);
        steps.push(step + j);
      }
      step += 10;
      await client.logBatch(busy.id, { metrics: { keys: ks, steps, values: steps.map((s) => 1 / (s + 1)), timestamps: steps.map(() => t) } });
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t))));
    }
    results.busy = { ...(await framesDone), pointsLogged: (step - 1) * 10, seconds: 5 };
    await client.finishRun(busy.id, 'FINISHED');
  } finally {
    await browser.close();
  }
  return results;
}

export function compareLiveReadme(r, meta) {
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return `### Compare view and live updates

\`node bench/dashboard.mjs --compare-live\` (${meta.cpus} CPUs, Chromium ${meta.chromium}, ${meta.date}): ${r.overlayRuns} runs ×
${r.overlayPointsPerRun.toLocaleString()} points of one metric, seeded in ${(r.seedMs / 1000).toFixed(1)} s.

| measure | result | target |
| --- | --- | --- |
| compare overlay, ${r.overlayRuns} runs × ${r.overlayPointsPerRun.toLocaleString()} points: navigation → all ${r.overlayLines} lines drawn | ${med(r.overlayFirstDrawMs)} ms (${r.overlayFirstDrawMs.join(', ')}); ${r.overlayPointsDrawn.toLocaleString()} points drawn | < 1,000 ms (${med(r.overlayFirstDrawMs) < 1000 ? 'met' : 'missed'}) |
| … the \`metricHistories\` request in the page: sent at → answered at (from navigation start) | ${r.overlaySplit.map((x) => `${x.requestStart} → ${x.responseEnd} ms`).join('; ')}; ${Math.round(r.overlaySplit[0].bytes / 1024)} KB | |
| … the same request from Node | ${med(r.overlayRequestMs)} ms (${r.overlayRequestMs.join(', ')}) | |
| live: \`logBatch\` response → point painted on the run page, ${r.liveUpdates} updates | p50 ${r.liveLatencyP50Ms} ms, p99 ${r.liveLatencyP99Ms} ms, max ${r.liveLatencyMaxMs} ms${r.liveCoalesced ? ` (${r.liveCoalesced} painted in the same frame as the next point)` : ''} | p99 < 250 ms (${r.liveLatencyP99Ms < 250 ? 'met' : 'missed'}) |
| live: run page while the run logs 1,000 points/s across 10 metrics (${r.busy.seconds} s, ${r.busy.pointsLogged.toLocaleString()} points) | ${r.busy.fps} fps, p95 frame ${r.busy.p95FrameMs} ms, ${r.busy.longTasks} long tasks | responsive |
`;
}
