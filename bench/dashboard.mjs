#!/usr/bin/env node
/**
 * Dashboard benchmark (measured, not asserted): a real `mltrail server` seeded with 10,000 runs
 * x 20 params x 10 metrics plus one run with a 1,000,000-point metric, the built SPA, and
 * headless Chromium (software rendering, --disable-gpu). Measures:
 *
 *   - time to a rendered runs table (navigation start -> first row painted) and to idle
 *   - time to sort by a metric (header click -> new first page rendered)
 *   - scrolling all 10,000 rows: frame rate and long tasks
 *   - time to draw the run page chart of the 1,000,000-point metric
 *
 * Figures go to stdout as JSON and into the "Dashboard" section of bench/README.md.
 *
 *   (cd frontend && npm run build) && node bench/dashboard.mjs [--runs 10000] [--no-readme]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api, launchChromium, startServer } from '../frontend/tools/live-server.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const RUNS = arg('runs', 10_000);
const PARAMS = 20;
const METRICS = 10;
const STEPS_PER_METRIC = 5;
const BIG_POINTS = arg('points', 1_000_000);
const RUNS_PER_REQUEST = 15; // two aliased fields per run; the server allows 30 aliases
const README = join(dirname(fileURLToPath(import.meta.url)), 'README.md');

const log = (...a) => console.error(...a);
const hex = () => randomBytes(16).toString('hex');

async function seed(client) {
  const t0 = Date.now();
  const exp = await client.createExperiment(`bench-${Date.now()}`);
  const base = Date.UTC(2026, 0, 1);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += RUNS_PER_REQUEST;
      if (start >= RUNS) return;
      const count = Math.min(RUNS_PER_REQUEST, RUNS - start);
      // One document per 15 runs: createRun with a client-chosen id, then its logBatch.
      // Mutation fields run in order, so each batch follows its run.
      const vars = {};
      const decls = [];
      const fields = [];
      for (let k = 0; k < count; k++) {
        const i = start + k;
        const id = hex();
        const keys = [];
        const steps = [];
        const values = [];
        const timestamps = [];
        for (let m = 0; m < METRICS; m++) {
          for (let s = 0; s < STEPS_PER_METRIC; s++) {
            keys.push(`m${m}`);
            steps.push(s);
            values.push(Math.round(((Math.sin(i * 12.9898 + m * 78.233) * 43758.5453) % 1 + 1) % 1 * 1e6) / 1e6);
            timestamps.push(base + i * 1000 + s);
          }
        }
        vars[`b${k}`] = {
          keys,
          steps,
          values,
          timestamps,
        };
        vars[`p${k}`] = Array.from({ length: PARAMS }, (_, p) => ({ key: `p${p}`, value: String((i * (p + 3)) % 97) }));
        decls.push(`$b${k}: MetricBatchInput, $p${k}: [ParamInput!]`);
        fields.push(
          `c${k}: createRun(experimentId: "${exp.id}", runId: "${id}", name: "run-${i}", startTime: ${base + i * 1000}) { id }`,
          `l${k}: logBatch(runId: "${id}", metrics: $b${k}, params: $p${k}) { metricsWritten }`,
        );
      }
      await client.gql(`mutation(${decls.join(', ')}) {\n${fields.join('\n')}\n}`, vars);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const seedRunsMs = Date.now() - t0;
  log(`seeded ${RUNS} runs in ${(seedRunsMs / 1000).toFixed(1)} s`);

  const t1 = Date.now();
  const big = await client.createRun({ experimentId: exp.id, name: 'million-points', startTime: base });
  const chunk = 100_000;
  for (let start = 0; start < BIG_POINTS; start += chunk) {
    const n = Math.min(chunk, BIG_POINTS - start);
    const steps = Array.from({ length: n }, (_, j) => start + j);
    const values = steps.map((s) => Math.round((Math.exp(-s / 200_000) + 0.05 * Math.sin(s / 500) + 0.01 * Math.sin(s * 1.7)) * 1e6) / 1e6);
    await client.logBatch(big.id, {
      metrics: { keys: steps.map(() => 'loss'), steps, values, timestamps: steps.map((s) => base + s) },
    });
  }
  log(`seeded ${BIG_POINTS} points in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  return { exp, big, seedRunsMs, seedPointsMs: Date.now() - t1 };
}

/** Resolves (in the page) once `predicate` holds on an animation frame; returns performance.now(). */
const WAIT_HELPER = `
  window.__waitFor = (predicate, timeout = 60000) => new Promise((ok, fail) => {
    const t0 = performance.now();
    const tick = () => {
      let v = false;
      try { v = predicate(); } catch {}
      if (v) return ok(performance.now());
      if (performance.now() - t0 > timeout) return fail(new Error('timeout'));
      requestAnimationFrame(tick);
    };
    tick();
  });
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
  } catch {}
`;

async function measure(baseUrl, { exp, big }) {
  const browser = await launchChromium();
  const results = {};
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addInitScript(WAIT_HELPER);
    const page = await context.newPage();

    // Warm the HTTP cache for the bundle once, like a returning analyst; the table timing below is
    // then about data and rendering.
    await page.goto(`${baseUrl}/experiments`);
    await page.locator('tbody tr').first().waitFor();

    const tableRuns = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${baseUrl}/runs?exp=${exp.id}`);
      const r = await page.evaluate(async () => {
        const rowsShown = await window.__waitFor(() => document.querySelector('[data-testid=runs-table] .tbody [role=row]') !== null);
        // "Interactive": the first frame after rows appeared in which no long task is running.
        await new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));
        const idle = performance.now();
        return { rowsShown, idle, longTasks: window.__longTasks.filter((t) => t.start < idle).length };
      });
      tableRuns.push(r);
    }
    results.tableFirstRowsMs = tableRuns.map((r) => Math.round(r.rowsShown));
    results.tableInteractiveMs = tableRuns.map((r) => Math.round(r.idle));
    results.tableLongTasksDuringLoad = tableRuns.map((r) => r.longTasks);

    // Sort by a metric (server-side): click -> new rows rendered.
    const sorts = [];
    for (const [i, expectDesc] of [[0, true], [1, false], [2, true]]) {
      const ms = await page.evaluate(async ({ column }) => {
        const header = document.querySelector(`[role=columnheader][data-column="${column}"] .sort-button`);
        const t0 = performance.now();
        header.click();
        await window.__waitFor(() => {
          const table = document.querySelector('[data-testid=runs-table]');
          const h = document.querySelector(`[role=columnheader][data-column="${column}"]`);
          return table?.getAttribute('data-stale') === 'false' && h?.getAttribute('aria-sort') !== 'none';
        });
        return performance.now() - t0;
      }, { column: `metrics:m${i}` });
      sorts.push(Math.round(ms));
      void expectDesc;
    }
    results.sortByMetricMs = sorts;

    // Load all 10,000 rows by scrolling (pages of 200 as the viewport nears the end).
    const loadAll = await page.evaluate(async (total) => {
      const scroller = document.querySelector('.table-scroll');
      const t0 = performance.now();
      await window.__waitFor(() => {
        scroller.scrollTop = scroller.scrollHeight;
        return document.querySelectorAll('[data-testid=runs-table]').length > 0 &&
          (document.querySelector('.table-footer')?.textContent ?? '').includes(`All ${total.toLocaleString()} runs loaded`);
      }, 600000);
      return performance.now() - t0;
    }, RUNS + 1); // + the million-point run, same experiment
    results.loadAllRowsByScrollingMs = Math.round(loadAll);

    // Scroll through all rows at a steady 3 rows per frame, then a fast fling: frame times, long tasks.
    const scroll = await page.evaluate(async () => {
      const scroller = document.querySelector('.table-scroll');
      scroller.scrollTop = 0;
      await new Promise((r) => setTimeout(r, 300));
      const run = (pxPerFrame, frames) => new Promise((ok) => {
        const times = [];
        const ltBefore = window.__longTasks.length;
        let last = performance.now();
        let n = 0;
        // Write-only positions: reading scrollTop each frame would force a layout a real wheel does not.
        let pos = 0;
        const max = scroller.scrollHeight - scroller.clientHeight;
        const frame = (now) => {
          times.push(now - last);
          last = now;
          pos += pxPerFrame;
          scroller.scrollTop = pos;
          n += 1;
          if (n < frames && pos < max) requestAnimationFrame(frame);
          else {
            const sorted = [...times.slice(1)].sort((a, b) => a - b);
            const sum = sorted.reduce((a, b) => a + b, 0);
            ok({
              frames: sorted.length,
              fps: Math.round((1000 * sorted.length) / sum),
              p95FrameMs: Math.round(sorted[Math.floor(sorted.length * 0.95)] * 10) / 10,
              maxFrameMs: Math.round(sorted[sorted.length - 1] * 10) / 10,
              longTasks: window.__longTasks.length - ltBefore,
              rowsInDom: document.querySelectorAll('[data-testid=runs-table] .tbody [role=row]').length,
            });
          }
        };
        requestAnimationFrame((now) => {
          last = now;
          requestAnimationFrame(frame);
        });
      });
      const steady = await run(96, 600);
      scroller.scrollTop = 0;
      await new Promise((r) => setTimeout(r, 300));
      const fling = await run(2000, 400);
      return { steady, fling };
    });
    results.scrollSteady = scroll.steady;
    results.scrollFling = scroll.fling;

    // The 1,000,000-point chart: navigation to the metrics tab -> canvas drawn.
    const charts = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${baseUrl}/runs/${big.id}?tab=metrics`);
      const r = await page.evaluate(async () => {
        const drawn = await window.__waitFor(() => document.querySelector('[data-testid=metric-panel][data-metric=loss][data-drawn=true]') !== null);
        const panel = document.querySelector('[data-testid=metric-panel][data-metric=loss]');
        return { drawn, points: Number(panel.getAttribute('data-points')), caption: panel.querySelector('.chart-caption')?.textContent };
      });
      charts.push(r);
    }
    results.millionPointChartMs = charts.map((c) => Math.round(c.drawn));
    // The same request from Node: how much of the chart time is the server's downsampling.
    const requests = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'query($r:[ID!]!,$n:Int){metricHistories(runIds:$r,keys:["loss"],maxPoints:$n){steps values}}',
          variables: { r: [big.id], n: charts[0].points },
        }),
      });
      await r.json();
      requests.push(Math.round(performance.now() - t0));
    }
    results.millionPointRequestMs = requests;
    results.millionPointChartPoints = charts[0].points;
    results.millionPointChartCaption = charts[0].caption;

    // Zoom: drag across 5% of the chart -> finer points for that range drawn.
    const loss = page.locator('[data-testid=metric-panel][data-metric=loss]');
    const box = await loss.locator('.u-over').boundingBox();
    const tZoom = await page.evaluate(() => performance.now());
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    const zoomEnd = await page.evaluate(async () =>
      window.__waitFor(() => {
        const p = document.querySelector('[data-testid=metric-panel][data-metric=loss]');
        return location.search.includes('zoom.loss') && p?.getAttribute('data-loading') === 'false';
      }),
    );
    results.zoomReloadMs = Math.round(zoomEnd - tZoom);
  } finally {
    await browser.close();
  }
  return results;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function readmeSection(r, meta) {
  const ok = (v, target) => (v <= target ? 'met' : 'missed');
  return `## Dashboard

\`node bench/dashboard.mjs\` (after \`npm run build\` in \`frontend/\`): a real \`mltrail server\`
(SQLite, one process) seeded through GraphQL with ${meta.runs.toLocaleString()} runs × ${PARAMS} params ×
${METRICS} metrics (${STEPS_PER_METRIC} steps each) and one run with a ${meta.points.toLocaleString()}-point metric, the built SPA,
headless Chromium (${meta.chromium}, \`--disable-gpu\`: software rendering), viewport 1400×900,
${meta.cpus} CPUs, measured ${meta.date}. Times are medians of 3 unless noted; the table and chart
times are from navigation start, with the JS bundle already in the HTTP cache.

| measure | result | target |
| --- | --- | --- |
| runs table: first rows painted | ${median(r.tableFirstRowsMs)} ms (${r.tableFirstRowsMs.join(', ')}) | |
| runs table: interactive (first idle frame after rows) | ${median(r.tableInteractiveMs)} ms; long tasks during load: ${r.tableLongTasksDuringLoad.join(', ')} | < 1,500 ms (${ok(median(r.tableInteractiveMs), 1500)}) |
| sort by a metric (click → new first page rendered, server-side \`orderBy\`) | ${median(r.sortByMetricMs)} ms (${r.sortByMetricMs.join(', ')}) | < 500 ms (${ok(median(r.sortByMetricMs), 500)}) |
| load all ${meta.runs.toLocaleString()} rows by scrolling (pages of 200) | ${(r.loadAllRowsByScrollingMs / 1000).toFixed(1)} s | |
| scroll all rows, 96 px/frame | ${r.scrollSteady.fps} fps, p95 frame ${r.scrollSteady.p95FrameMs} ms, max ${r.scrollSteady.maxFrameMs} ms, ${r.scrollSteady.longTasks} long tasks, ${r.scrollSteady.rowsInDom} rows in the DOM | |
| fling, 2,000 px/frame | ${r.scrollFling.fps} fps, p95 frame ${r.scrollFling.p95FrameMs} ms, ${r.scrollFling.longTasks} long tasks | |
| run page chart of a ${meta.points.toLocaleString()}-point metric (navigation → canvas drawn) | ${median(r.millionPointChartMs)} ms (${r.millionPointChartMs.join(', ')}); ${r.millionPointChartPoints.toLocaleString()} points drawn | < 1,000 ms (${ok(median(r.millionPointChartMs), 1000)}) |
| … of which the \`metricHistories\` request (1M → ${r.millionPointChartPoints.toLocaleString()} points, from Node) | ${median(r.millionPointRequestMs)} ms (${r.millionPointRequestMs.join(', ')}) | |
| zoom into 5% of that chart (drag → finer points drawn) | ${r.zoomReloadMs} ms | |

Seeding took ${(meta.seedRunsMs / 1000).toFixed(1)} s for the runs (15 runs per GraphQL request — the alias limit is 30 —, 4 in flight)
and ${(meta.seedPointsMs / 1000).toFixed(1)} s for the million points (100,000-point \`logBatch\` calls).
The chart asks for about two points per pixel (\`maxPoints\`), so the million points arrive as
${r.millionPointChartPoints.toLocaleString()} min/max-bucket points; zooming asks again for the dragged step range only.

Where the time goes: ${median(r.millionPointChartMs) > 1000 ? 'the chart target is missed on the server side. ' : ''}the \`metricHistories\`
downsampling of the million points takes ${median(r.millionPointRequestMs)} ms of the ${median(r.millionPointChartMs)} ms (see "Tracking server"
below for the server's side); the browser's share (navigation, the run
page's own query and code chunk, shaping and drawing ${r.millionPointChartPoints.toLocaleString()} points) is the remaining
≈ ${median(r.millionPointChartMs) - median(r.millionPointRequestMs)} ms. Loading every row is bound by the server too (≈ ${Math.round(r.loadAllRowsByScrollingMs / Math.ceil((meta.runs + 1) / 200))} ms per page of
200 runs with 20 params and 10 latest metrics each). Scrolling stays at the display rate because
only the ≈ ${r.scrollSteady.rowsInDom} rows in view are in the DOM and rows already on screen are memoised; the fling
(≈ 60 new rows every frame) is where software rendering shows.
`;
}

function writeReadme(section) {
  let text = existsSync(README) ? readFileSync(README, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf('\n## Dashboard');
  if (start >= 0) {
    const after = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start + 1) + section + (after >= 0 ? text.slice(after) : '');
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(README, text.endsWith('\n') ? text : `${text}\n`);
}

// Issue 15: `--compare-live` measures only the compare overlay and live latency
// (bench/dashboard_compare_live.mjs) and writes its own subsection of the README.
if (argv.includes('--compare-live')) {
  const { measureCompareAndLive, compareLiveReadme } = await import('./dashboard_compare_live.mjs');
  const liveServer = await startServer();
  try {
    const results = await measureCompareAndLive({ baseUrl: liveServer.baseUrl, client: api(liveServer.baseUrl), launchChromium, log });
    const b = await launchChromium();
    const meta = { cpus: cpus().length, chromium: b.version(), date: new Date().toISOString().slice(0, 10) };
    await b.close();
    console.log(JSON.stringify({ meta, results }, null, 2));
    if (!argv.includes('--no-readme')) {
      let text = readFileSync(README, 'utf8');
      const section = compareLiveReadme(results, meta);
      const start = text.indexOf('\n### Compare view and live updates');
      if (start >= 0) {
        const after = text.indexOf('\n## ', start + 1);
        text = text.slice(0, start + 1) + section + (after >= 0 ? text.slice(after) : '');
      } else {
        const next = text.indexOf('\n## ', text.indexOf('\n## Dashboard') + 1);
        text = next >= 0 ? `${text.slice(0, next)}\n${section}${text.slice(next)}` : `${text.trimEnd()}\n\n${section}`;
      }
      writeFileSync(README, text);
      log(`wrote the compare/live subsection of ${README}`);
    }
  } finally {
    await liveServer.stop();
  }
  process.exit(0);
}

const server = await startServer();
try {
  const client = api(server.baseUrl);
  const seeded = await seed(client);
  const results = await measure(server.baseUrl, seeded);
  const browser = await launchChromium();
  const chromium = browser.version();
  await browser.close();
  const meta = {
    runs: RUNS,
    points: BIG_POINTS,
    chromium,
    cpus: cpus().length,
    date: new Date().toISOString().slice(0, 10),
    seedRunsMs: seeded.seedRunsMs,
    seedPointsMs: seeded.seedPointsMs,
  };
  console.log(JSON.stringify({ meta, results }, null, 2));
  if (!argv.includes('--no-readme')) {
    writeReadme(readmeSection(results, meta));
    log(`wrote the Dashboard section of ${README}`);
  }
} finally {
  await server.stop();
}
