#!/usr/bin/env node
/**
 * Browser end-to-end tests: a real `mltrail server` (MLTRAIL_BIN, default ../.venv/bin/mltrail)
 * seeded through GraphQL and the artifact API, the built SPA (dist/), and Debian's Chromium
 * driven by playwright-core. Each step asserts what an analyst would see; screenshots of every
 * view go to test-results/ for a human to look at.
 *
 *   npm run build && npm run test:e2e
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { api, FRONTEND_DIR, launchChromium, startServer } from '../tools/live-server.mjs';
import { compareAndLiveSteps } from './compareLive.mjs';
import { registrySteps } from './registry.mjs';
import { seedE2E } from './seed.mjs';
import { seedSystemMetrics } from './systemMetrics.mjs';

const OUT = join(FRONTEND_DIR, 'test-results');
// Start clean, so a screenshot of an earlier failure is never mistaken for this run's.
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

const results = [];
let failureShot = null;
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - t0 });
    console.log(`  ✓ ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t0, error: e });
    await failureShot?.(name).catch(() => undefined);
    console.log(`  ✗ ${name}\n    ${String(e?.stack ?? e).split('\n').slice(0, 6).join('\n    ')}`);
    throw e;
  }
}

const started = Date.now();
const server = await startServer();
let browser;
let exitCode = 0;
try {
  const client = api(server.baseUrl);
  const withArtifacts = await client.hasArtifactListing();
  const seed = await seedE2E(client, { withArtifacts });
  await seedSystemMetrics(client, seed.hero.id, Date.UTC(2026, 0, 15, 9, 30, 0));
  console.log(`server ${server.baseUrl}, seeded ${seed.runs.length + 3} runs in ${Date.now() - started} ms` + (withArtifacts ? '' : ' (no Run.artifacts in the schema: artifact steps skipped)'));

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('dialog', (d) => void d.accept());
  if (process.env.E2E_DEBUG) page.on('framenavigated', (f) => console.log('    nav', f.url()));
  const shot = (name) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
  failureShot = (name) => shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`);
  const url = (path) => `${server.baseUrl}${path}`;
  const settled = () => page.locator('[data-testid=runs-table][data-stale=false]').waitFor();
  const runsCount = () => page.getByTestId('runs-count').innerText();
  const firstRowName = () => page.locator('[data-testid=runs-table] .tbody [role=row]').first().locator('.run-link').innerText();
  const columnValues = (columnId) =>
    page.$$eval(`[data-testid=runs-table] .tbody [role=row] [data-column="${columnId}"]`, (cells) =>
      cells
        .map((c) => ({ top: c.parentElement.getBoundingClientRect().top, text: c.textContent ?? '' }))
        .sort((a, b) => a.top - b.top)
        .map((c) => c.text),
    );

  await step('experiments list shows run counts', async () => {
    await page.goto(url('/'));
    await page.waitForURL(/\/experiments$/);
    const row = page.locator(`tr[data-experiment-id="${seed.churn.id}"]`);
    await row.waitFor();
    assert.equal((await row.locator('td.num').innerText()).trim(), String(seed.runs.length));
    assert.match(await row.innerText(), /ago|just now/);
    await shot('01-experiments');
  });

  await step('create, rename, delete and restore an experiment', async () => {
    await page.getByRole('button', { name: 'New experiment' }).click();
    await page.getByLabel('Experiment name').fill('scratch-e2e');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.locator('tr', { hasText: 'scratch-e2e' }).waitFor();
    const id = await page.locator('tr', { hasText: 'scratch-e2e' }).getAttribute('data-experiment-id');
    const created = page.locator(`tr[data-experiment-id="${id}"]`);
    await created.getByRole('button', { name: 'Rename' }).click();
    await created.getByLabel('New name').fill('scratch-renamed');
    await created.getByRole('button', { name: 'Save' }).click();
    const renamed = page.locator('tr', { hasText: 'scratch-renamed' });
    await renamed.waitFor();
    await renamed.getByRole('button', { name: 'Delete' }).click();
    await renamed.waitFor({ state: 'detached' });
    await page.getByLabel('Show deleted').check();
    assert.match(page.url(), /deleted=1/);
    const deleted = page.locator('tr.row-deleted', { hasText: 'scratch-renamed' });
    await deleted.waitFor();
    await deleted.getByRole('button', { name: 'Restore' }).click();
    await page.locator('tr:not(.row-deleted)', { hasText: 'scratch-renamed' }).waitFor();
    await page.getByLabel('Search experiments').fill('churn');
    assert.equal(await page.locator('tbody tr').count(), 1);
    await page.getByLabel('Search experiments').fill('');
  });

  await step('open the runs table of an experiment', async () => {
    await page.getByRole('link', { name: 'churn', exact: true }).click();
    await page.waitForURL(/\/runs\?exp=/);
    await page.getByTestId('runs-table').waitFor();
    // The parent's children are folded under it: every run is counted, not every run is a row.
    assert.equal(await runsCount(), `${seed.runs.length} runs`);
    const rows = await page.locator('[data-testid=runs-table] .tbody [role=row]').count();
    assert.equal(rows, seed.runs.length - seed.children.length);
    assert.ok((await page.locator('.status-badge[data-status=FAILED]').count()) > 0, 'status badges drawn');
    await shot('02-runs');
  });

  await step('a bad filter shows the server error at the filter box', async () => {
    await page.getByLabel('Filter runs').fill('metrics.acc > ');
    await page.getByLabel('Filter runs').press('Enter');
    const err = page.getByTestId('filter-error');
    await err.waitFor();
    const text = await err.innerText();
    assert.match(text, /column \d+/i, `server message with a position, got: ${text}`);
    assert.match(text, /\^/);
    // The previous results stay on screen (dimmed) under the error.
    assert.ok((await page.locator('[data-testid=runs-table] .tbody [role=row]').count()) > 0, 'previous rows still shown');
    await shot('03-runs-filter-error');
  });

  const filter = "metrics.acc > 0.8 and params.model = 'rf'";
  const expected = seed.runs.filter((r) => r.model === 'rf' && r.acc !== null && r.acc > 0.8);
  await step('filter runs with the search language', async () => {
    await page.getByLabel('Filter runs').fill(filter);
    await page.getByLabel('Filter runs').press('Enter');
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid=runs-count]')?.textContent?.startsWith(`${n} run`),
      expected.length,
    );
    assert.equal(new URL(page.url()).searchParams.get('filter'), filter);
    const names = await columnValues('attributes:name');
    assert.deepEqual(new Set(names), new Set(expected.map((r) => r.name)));
  });

  await step('sort by a metric (server-side)', async () => {
    await page.locator('[data-column="metrics:acc"] .sort-button').click();
    await page.waitForURL(/sort=metrics%3Aacc&desc=1/);
    await page.waitForFunction(() => document.querySelector('[role=columnheader][aria-sort=descending]') !== null);
    await page.waitForFunction(
      (name) => document.querySelector('[data-testid=runs-table] .tbody [role=row] .run-link')?.textContent === name,
      'hero-rf',
    );
    await settled();
    const accs = (await columnValues('metrics:acc')).map(Number);
    const sorted = [...accs].sort((a, b) => b - a);
    assert.deepEqual(accs, sorted);
    assert.equal(accs.length, expected.length);
    // Ascending on the second click.
    await page.locator('[data-column="metrics:acc"] .sort-button').click();
    await page.waitForURL((u) => u.searchParams.get('sort') === 'metrics:acc' && !u.searchParams.has('desc'));
    await page.waitForFunction((name) => document.querySelector('[data-testid=runs-table] .tbody [role=row] .run-link')?.textContent !== name, 'hero-rf');
    await settled();
    const asc = (await columnValues('metrics:acc')).map(Number);
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
    await page.locator('[data-column="metrics:acc"] .sort-button').click(); // back to unsorted
    await page.locator('[data-column="metrics:acc"] .sort-button').click(); // descending again
    await page.waitForURL(/desc=1/);
    await settled();
    await shot('04-runs-filtered-sorted');
  });

  await step('select runs for comparison', async () => {
    const rows = page.locator('[data-testid=runs-table] .tbody [role=row]');
    await rows.nth(0).locator('input[type=checkbox]').check();
    await rows.nth(1).locator('input[type=checkbox]').check();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('sel')?.split(',').length === 2);
    assert.match(await page.locator('.status-line').innerText(), /2 selected/);
  });

  await step('reload a shared URL and land on the same view', async () => {
    const shared = page.url();
    const before = await columnValues('attributes:name');
    await page.reload();
    await page.getByTestId('runs-table').waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=runs-table] .tbody [role=row]').length === n, before.length);
    assert.equal(await page.getByLabel('Filter runs').inputValue(), filter);
    assert.deepEqual(await columnValues('attributes:name'), before);
    assert.equal(await page.locator('[data-testid=runs-table] .tbody input[type=checkbox]:checked').count(), 2);
    // Someone else opening the link sees the same thing.
    const other = await context.newPage();
    await other.goto(shared);
    await other.getByTestId('runs-table').waitFor();
    await other.waitForFunction((n) => document.querySelectorAll('[data-testid=runs-table] .tbody [role=row]').length === n, before.length);
    assert.equal(await other.locator('[data-testid=runs-table] .tbody [role=row] .run-link').first().innerText(), before[0]);
    assert.ok(await other.locator('[role=columnheader][aria-sort=descending][data-column="metrics:acc"]').count());
    await other.close();
  });

  await step('export the current view as CSV', async () => {
    await page.locator('.status-line .link-button', { hasText: 'clear' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Export CSV/ }).click()]);
    const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r\n/);
    assert.match(csv[0], /^run_id,Run,Status,Started,Duration,User,metrics\.acc,/);
    assert.equal(csv.length - 1, expected.length);
    assert.ok(csv[1].includes('hero-rf'));
  });

  await step('nested runs are collapsible under their parent', async () => {
    await page.goto(url(`/runs?exp=${seed.churn.id}`));
    await page.getByTestId('runs-table').waitFor();
    const parentRow = page.locator(`[data-run-id="${seed.parent.id}"]`);
    await parentRow.scrollIntoViewIfNeeded();
    await parentRow.getByRole('button', { name: /Expand 3 child runs/ }).click();
    for (const c of seed.children) await page.locator(`[data-run-id="${c.id}"]`).waitFor();
    assert.match(page.url(), new RegExp(`open=${seed.parent.id}`));
    await parentRow.getByRole('button', { name: /Collapse/ }).click();
    await page.locator(`[data-run-id="${seed.children[0].id}"]`).waitFor({ state: 'detached' });
  });

  await step('choose columns from the keys the server reports', async () => {
    await page.getByRole('button', { name: /^Columns/ }).click();
    await page.getByLabel('Search column keys').fill('loss');
    // click + URL, not check(): the router applies the URL in a transition, so the controlled
    // checkbox settles a frame after the click.
    await page.getByRole('dialog').getByLabel('loss (min)').click();
    await page.waitForURL(/col=metrics.min%3Aloss/);
    // Tags are default columns now (every tag of the page's runs).
    assert.ok(new URL(page.url()).searchParams.getAll('col').includes('tags:team'));
    await page.getByLabel('Search column keys').fill('acc');
    await page.getByRole('dialog').getByLabel('acc (max)').click();
    await page.waitForURL(/col=metrics.max%3Aacc/);
    await page.keyboard.press('Escape');
    await page.mouse.click(5, 5);
    await page.locator('[role=columnheader][data-column="metrics.min:loss"]').waitFor();
    await page.locator('[role=columnheader][data-column="metrics.max:acc"]').waitFor();
    const cols = new URL(page.url()).searchParams.getAll('col');
    assert.deepEqual(cols.slice(-2), ['metrics.min:loss', 'metrics.max:acc']);
    // Sorting by a run extreme goes to the server as `metrics.loss.min`; a loss sorts best
    // (lowest) first on the first click.
    await page.locator('[data-column="metrics.min:loss"] .sort-button').click();
    await page.waitForURL(/sort=metrics.min%3Aloss/);
    await page.waitForFunction(() => document.querySelector('.status-line')?.textContent?.includes('metrics.loss.min ASC'));
    await settled();
    const mins = (await columnValues('metrics.min:loss')).filter((t) => t !== '').map(Number);
    assert.ok(mins.length > 5);
    assert.deepEqual(mins, [...mins].sort((a, b) => a - b));
    await shot('04b-runs-columns');
  });

  await step('multi-experiment runs table', async () => {
    await page.goto(url(`/runs?exp=${seed.churn.id},${seed.baseline.id}`));
    await page.getByTestId('runs-table').waitFor();
    assert.equal(await runsCount(), `${seed.runs.length + 3} runs`);
    await page.locator('[role=columnheader][data-column="attributes:experiment"]').waitFor();
  });

  await step('open a run: overview, params and tags', async () => {
    await page.goto(url(`/runs?exp=${seed.churn.id}&filter=${encodeURIComponent("attributes.run_name = 'hero-rf'")}`));
    await page.getByRole('link', { name: 'hero-rf' }).click();
    await page.waitForURL(new RegExp(`/runs/${seed.hero.id}$`));
    const overview = page.getByTestId('run-overview');
    await overview.waitFor();
    const text = await overview.innerText();
    assert.match(text, /abc1234def5678/);
    assert.match(text, /dirty/);
    assert.match(text, /churn-train/);
    assert.match(text, /3\.11\.9/);
    assert.match(text, /12 min 34 s/);
    await page.getByLabel('Search params and tags').fill('n_est');
    assert.equal(await page.getByTestId('kv-params').locator('tr').count(), 1);
    assert.equal(await page.getByTestId('kv-tags').locator('tr').count(), 0);
    await page.getByLabel('Search params and tags').fill('');
    await page.getByTestId('registered-versions').waitFor();
    await shot('05-run-overview');
  });

  await step('a chart per metric, drawn from downsampled points', async () => {
    await page.getByRole('tab', { name: /Metrics/ }).click();
    const loss = page.locator('[data-testid=metric-panel][data-metric=loss]');
    await page.locator('[data-testid=metric-panel][data-metric=loss][data-drawn=true]').waitFor();
    await page.locator('[data-testid=metric-panel][data-metric=acc][data-drawn=true]').waitFor();
    const caption = await loss.locator('.chart-caption').innerText();
    assert.match(caption, /of 5,000 points \(downsampled/);
    const inked = await loss.locator('canvas').evaluate((canvas) => {
      const ctx = canvas.getContext('2d');
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && data[i + 2] > 150 && data[i] < 100) n++;
      return n;
    });
    assert.ok(inked > 500, `the loss line is drawn (${inked} blue pixels)`);
    await shot('06-run-metrics');
  });

  await step('zooming a chart loads finer points for that range', async () => {
    const loss = page.locator('[data-testid=metric-panel][data-metric=loss]');
    const box = await loss.locator('.u-over').boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.36, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/zoom\.loss=\d+\.\.\d+/);
    const [lo, hi] = new URL(page.url()).searchParams.get('zoom.loss').split('..').map(Number);
    assert.ok(hi - lo > 50 && hi - lo < 1000, `zoomed to ${lo}..${hi}`);
    await page.waitForFunction(() => {
      const p = document.querySelector('[data-testid=metric-panel][data-metric=loss]');
      return p?.getAttribute('data-loading') === 'false' && !p.querySelector('.chart-caption')?.textContent?.includes('downsampled');
    });
    const points = Number(await loss.getAttribute('data-points'));
    // The seed has one NaN, at step 1600: a gap in the line, counted in the caption.
    if (lo <= 1600 && hi >= 1600) assert.match(await loss.locator('.chart-caption').innerText(), /1 NaN\/∞ value not drawn/);
    assert.ok(Math.abs(points - (hi - lo + 1)) <= 2, `every point in range: ${points} vs ${hi - lo + 1}`);
    await shot('07-run-metrics-zoomed');
    await page.reload();
    await page.locator('[data-testid=metric-panel][data-metric=loss][data-drawn=true]').waitFor();
    assert.match(await loss.innerText(), new RegExp(`Reset zoom \\(${lo}–${hi}\\)`));
  });

  await step('the System tab charts machine metrics against wall time, apart from training metrics', async () => {
    await page.goto(url(`/runs/${seed.hero.id}?tab=metrics`));
    await page.locator('[data-testid=metric-panel][data-metric=loss][data-drawn=true]').waitFor();
    assert.equal(await page.locator('[data-testid=metric-panel][data-metric^="system/"]').count(), 0);
    await page.getByRole('tab', { name: 'System' }).click();
    await page.waitForURL(/tab=system/);
    const charts = ['cpu', 'memory', 'memory_percent', 'disk', 'network', 'gpu_utilization', 'gpu_memory', 'gpu_power'];
    for (const id of charts) await page.locator(`[data-testid=system-panel][data-chart=${id}][data-drawn=true]`).waitFor();
    assert.equal(await page.getByTestId('system-panel').count(), charts.length);
    assert.equal(await page.locator('[data-testid=system-panel][data-chart=gpu_utilization]').getAttribute('data-series'), '2');
    const cpu = page.locator('[data-testid=system-panel][data-chart=cpu]');
    assert.match(await cpu.locator('.chart-caption').innerText(), /^60 samples/);
    // The x-axis is wall time: hovering shows a date, not a step number, in the legend.
    const box = await cpu.locator('.u-over').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    assert.match(await cpu.locator('.u-legend .u-series').first().innerText(), /2026-01-15/);
    await shot('07b-run-system');
  });

  if (seed.artifacts) {
    await step('artifacts browser with previews and downloads', async () => {
      await page.getByRole('tab', { name: 'Artifacts' }).click();
      await page.getByTestId('artifact-entries').waitFor();
      await page.locator('.artifact-entry', { hasText: 'README.md' }).click();
      const md = page.getByTestId('markdown-preview');
      await md.waitFor();
      assert.equal(await md.locator('h3').first().innerText(), 'Churn model');
      assert.equal(await md.locator('li').count(), 2);
      const href = await page.getByTestId('artifact-download').getAttribute('href');
      const body = await (await fetch(url(href))).text();
      assert.match(body, /^# Churn model/);
      await page.locator('.artifact-entry', { hasText: 'metrics.json' }).click();
      await page.getByTestId('text-preview').waitFor();
      assert.match(await page.getByTestId('text-preview').innerText(), /"auc": 0\.97/);
      await page.locator('.artifact-entry', { hasText: 'data' }).click();
      await page.locator('.artifact-entry', { hasText: 'sample.csv' }).click();
      const table = page.getByTestId('csv-preview');
      await table.waitFor();
      assert.deepEqual(await table.locator('th').allInnerTexts(), ['customer_id', 'tenure', 'churned']);
      assert.equal(await table.locator('tbody tr').count(), 50);
      await shot('08-run-artifacts-csv');
      await page.locator('.artifact-crumbs .link-button', { hasText: 'artifacts' }).click();
      await page.locator('.artifact-entry', { hasText: 'plots' }).click();
      await page.locator('.artifact-entry', { hasText: 'curve.png' }).click();
      const img = page.locator('.preview-image');
      await img.waitFor();
      await page.waitForFunction(() => document.querySelector('.preview-image')?.naturalWidth === 96);
      assert.match(page.url(), /dir=plots&file=plots%2Fcurve\.png/);
      await shot('09-run-artifacts-image');
    });
  }

  await step('a GraphQL error shows its message, not a blank page', async () => {
    await page.goto(url('/runs/0123456789abcdef0123456789abcdef'));
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    assert.match(text, /NOT_FOUND/);
    assert.match(text, /0123456789abcdef0123456789abcdef/);
    await shot('10-error');
    await page.goto(url('/no/such/page'));
    await page.getByText('Page not found').waitFor();
  });

  await compareAndLiveSteps({ step, browser, page, server, client, seed, url, OUT });

  // Last: its seed adds an experiment the earlier steps' counts do not expect.
  await registrySteps({ step, browser, page, server, client, url, OUT });

  // The restart step kills the server on purpose: the open compare view's socket reports its
  // refused reconnection attempts before it gets back in.
  const unexpected = consoleErrors.filter((e) => !/Failed to load resource|status of 404|WebSocket connection to .* failed/.test(e));
  await step('no uncaught errors in the browser console', async () => {
    assert.deepEqual(unexpected, []);
  });
} catch {
  exitCode = 1;
} finally {
  await browser?.close().catch(() => undefined);
  if (exitCode) console.log(`\nserver output (last 3000 chars):\n${server.output().slice(-3000)}`);
  await server.stop();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`\n${results.length - failed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${OUT}`);
process.exit(exitCode || failed ? 1 : 0);
