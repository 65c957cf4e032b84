/**
 * Browser tests of the compare view and of live updates (issue 15), called from run.mjs with
 * its `step`, page and server: overlay with one line per run and a matching legend, grouping
 * with a band, brushing parallel coordinates, a run logging in the background watched from two
 * browser contexts, and a server killed and restarted mid-stream with the chart backfilled.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { metricBatch } from './fixtures.mjs';

/** Pixels of the canvas close to a #rrggbb colour (the line of that run). */
async function inkOf(locator, hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return locator.locator('canvas').first().evaluate(
    (canvas, [r, g, b]) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40) n++;
      }
      return n;
    },
    [r, g, b],
  );
}

export async function compareAndLiveSteps({ step, browser, page, server, client, seed, url, OUT }) {
  const shot = (p, name) => p.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });

  await step('compare selected runs: one line per run, legend colours match', async () => {
    await page.goto(url(`/runs?exp=${seed.churn.id}&filter=${encodeURIComponent("params.model = 'rf'")}`));
    await page.locator('[data-testid=runs-table][data-stale=false]').waitFor();
    const rows = page.locator('[data-testid=runs-table] .tbody [role=row]');
    for (let i = 0; i < 4; i++) await rows.nth(i).locator('input[type=checkbox]').check();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('sel')?.split(',').length === 4);
    await page.getByTestId('compare-selected').click();
    await page.waitForURL(/\/compare\?runs=/);
    assert.equal(new URL(page.url()).searchParams.get('runs').split(',').length, 4);
    const acc = page.locator('[data-testid=overlay-panel][data-metric=acc][data-drawn=true]');
    await acc.waitFor();
    assert.equal(await acc.getAttribute('data-lines'), '4');
    const legend = page.locator('[data-testid=compare-legend] .legend-item');
    assert.equal(await legend.count(), 4);
    const legendColours = await legend.evaluateAll((items) => items.map((i) => i.getAttribute('data-colour')));
    assert.deepEqual((await acc.getAttribute('data-colours')).split(' '), legendColours);
    // Every run's colour is on the canvas: the lines really are drawn in the legend's colours.
    for (const c of legendColours) assert.ok((await inkOf(acc, c)) > 30, `line of colour ${c} drawn`);
    // Hovering lists every run's value at that step, highest first.
    const over = await acc.locator('.u-over').boundingBox();
    await page.mouse.move(over.x + over.width * 0.6, over.y + over.height / 2);
    const hover = page.getByTestId('hover-list');
    await hover.waitFor();
    const shown = (await hover.locator('.hover-row .num').allInnerTexts()).map(Number);
    assert.ok(shown.length >= 3, `values of the runs under the cursor: ${shown}`);
    assert.deepEqual(shown, [...shown].sort((a, b) => b - a));
    await page.getByTestId('diff-table').waitFor();
    assert.ok((await page.locator('[data-testid=diff-table] tr.differs').count()) > 0, 'the diff shows what differs');
    await shot(page, '11-compare-overlay');

    // Hide one run from the legend, pin another as the baseline.
    await legend.nth(1).locator('.legend-toggle').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=overlay-panel][data-metric=acc]')?.getAttribute('data-lines') === '3');
    await legend.nth(0).locator('.legend-pin').click();
    await page.waitForURL(/base=/);
    assert.match(page.url(), /hide=/);
  });

  await step('group by a param: one line per group with a min–max band', async () => {
    await page.goto(url(`/runs?exp=${seed.churn.id}`));
    await page.locator('[data-testid=runs-table][data-stale=false]').waitFor();
    await page.getByRole('button', { name: /Compare all matching/ }).click();
    await page.waitForURL(/\/compare\?runs=/);
    await page.locator('[data-testid=overlay-panel][data-metric=acc][data-drawn=true]').waitFor();
    const n = new URL(page.url()).searchParams.get('runs').split(',').length;
    assert.equal(n, seed.runs.length);
    await page.getByLabel('Group by').selectOption('params:model');
    await page.waitForURL(/group=params%3Amodel/);
    const acc = page.locator('[data-testid=overlay-panel][data-metric=acc]');
    await page.waitForFunction(() => document.querySelector('[data-testid=overlay-panel][data-metric=acc]')?.getAttribute('data-bands') === '3');
    assert.equal(await acc.getAttribute('data-lines'), '3'); // rf, xgb, lr (the sweep parent logged no metric)
    // The band is translucent ink between the group's min and max: count lightly tinted pixels.
    const tinted = await acc.locator('canvas').first().evaluate((canvas) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 20 && data[i + 3] < 120) n++;
      return n;
    });
    assert.ok(tinted > 2000, `a band is filled (${tinted} translucent pixels)`);
    await shot(page, '12-compare-grouped');
  });

  await step('brush a parallel-coordinates axis and see the selection narrow', async () => {
    const pc = page.getByTestId('parallel-coordinates');
    await pc.scrollIntoViewIfNeeded();
    const count = page.getByTestId('pc-selection');
    const before = Number(await count.getAttribute('data-kept'));
    const axis = page.getByTestId('pc-axis-metrics:acc');
    const box = await axis.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + 8);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.4, { steps: 6 });
    await page.mouse.up();
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid=pc-selection]')?.getAttribute('data-kept')) < b, before);
    const after = Number(await count.getAttribute('data-kept'));
    assert.ok(after > 0 && after < before, `brushing narrowed ${before} → ${after}`);
    assert.equal(await pc.locator('polyline[data-kept=true]').count(), after);
    await pc.screenshot({ path: join(OUT, '13-compare-parallel-brushed.png') });
    await page.getByTestId('scatter').locator('circle').first().waitFor();
    await page.getByTestId('scatter').screenshot({ path: join(OUT, '13b-compare-scatter.png') });
  });

  await step('a running run grows and turns Finished live, in two browser contexts', async () => {
    const run = await client.createRun({ experimentId: seed.churn.id, name: 'live-run', startTime: Date.now() });
    const first = Array.from({ length: 10 }, (_, s) => s);
    await client.logBatch(run.id, { metrics: metricBatch('loss', first, first.map((s) => 1 / (s + 1))) });
    const watchers = [];
    for (let k = 0; k < 2; k++) {
      const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
      const p = await ctx.newPage();
      await p.goto(url(`/runs/${run.id}?tab=metrics`));
      await p.locator('[data-testid=metric-panel][data-metric=loss][data-drawn=true]').waitFor();
      await p.locator('[data-testid=live-indicator][data-state=live]').waitFor();
      await p.evaluate(() => (window.__noReload = true));
      watchers.push({ ctx, p });
    }
    // The runs table too, in the first context.
    const table = await watchers[0].ctx.newPage();
    await table.goto(url(`/runs?exp=${seed.churn.id}`));
    await table.locator(`[data-run-id="${run.id}"] .status-badge[data-status=RUNNING]`).waitFor();
    await table.locator('[data-testid=live-indicator][data-state=live]').waitFor();
    for (let b = 1; b <= 3; b++) {
      const steps = Array.from({ length: 10 }, (_, s) => b * 10 + s);
      await client.logBatch(run.id, { metrics: metricBatch('loss', steps, steps.map((s) => 1 / (s + 1))) });
      await new Promise((r) => setTimeout(r, 150));
    }
    for (const { p } of watchers) {
      await p.waitForFunction(() => document.querySelector('[data-testid=metric-panel][data-metric=loss]')?.getAttribute('data-last-step') === '39');
      assert.equal(await p.locator('[data-testid=metric-panel][data-metric=loss]').getAttribute('data-points'), '40');
    }
    await shot(watchers[1].p, '14-live-growing');
    await client.finishRun(run.id, 'FINISHED');
    for (const { p } of watchers) {
      await p.locator('[data-testid=run-title] .status-badge[data-status=FINISHED]').waitFor();
      assert.equal(await p.evaluate(() => window.__noReload), true, 'no reload happened');
    }
    await table.locator(`[data-run-id="${run.id}"] .status-badge[data-status=FINISHED]`).waitFor();
    await shot(watchers[1].p, '15-live-finished');
    await shot(table, '15b-live-runs-table');
    // A new run appears at the top of the unsorted table by itself…
    const late = await client.createRun({ experimentId: seed.churn.id, name: 'late-run', startTime: Date.now() });
    await table.locator(`[data-run-id="${late.id}"]`).waitFor();
    // …and behind an "N new runs" marker once the user has sorted.
    await table.locator('[data-column="attributes:start_time"] .sort-button').click();
    await table.waitForURL(/sort=attributes%3Astart_time/);
    await table.locator('[data-testid=runs-table][data-stale=false]').waitFor();
    const later = await client.createRun({ experimentId: seed.churn.id, name: 'later-run', startTime: Date.now() });
    const marker = table.getByTestId('new-runs-marker');
    await marker.waitFor();
    assert.match(await marker.innerText(), /^1 new run/);
    assert.equal(await table.locator(`[data-run-id="${later.id}"]`).count(), 0, 'rows do not move under the user');
    await marker.click();
    await table.locator('[data-testid=runs-table][data-stale=false]').waitFor();
    await marker.waitFor({ state: 'detached' });
    await client.finishRun(late.id, 'FINISHED');
    await client.finishRun(later.id, 'FINISHED');
    for (const { ctx } of watchers) await ctx.close();
  });

  await step('kill and restart the server mid-stream: the chart backfills without a gap', async () => {
    const run = await client.createRun({ experimentId: seed.churn.id, name: 'restart-run', startTime: Date.now() });
    const first = Array.from({ length: 20 }, (_, s) => s);
    await client.logBatch(run.id, { metrics: metricBatch('acc', first, first.map((s) => s / 100)) });
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const p = await ctx.newPage();
    await p.goto(url(`/runs/${run.id}?tab=metrics`));
    const panel = p.locator('[data-testid=metric-panel][data-metric=acc]');
    await p.locator('[data-testid=metric-panel][data-metric=acc][data-drawn=true]').waitFor();
    await p.locator('[data-testid=live-indicator][data-state=live]').waitFor();
    await p.evaluate(() => (window.__noReload = true));
    // Live before the crash.
    await client.logBatch(run.id, { metrics: metricBatch('acc', [20, 21], [0.2, 0.21]) });
    await p.waitForFunction(() => document.querySelector('[data-testid=metric-panel][data-metric=acc]')?.getAttribute('data-last-step') === '21');
    await server.kill();
    await p.locator('[data-testid=live-indicator][data-state=reconnecting]').waitFor();
    await shot(p, '16-reconnecting');
    await server.restart();
    // Logged while the page is still backing off: only the catch-up fetch can bring these.
    const gap = Array.from({ length: 30 }, (_, s) => 22 + s);
    await client.logBatch(run.id, { metrics: metricBatch('acc', gap, gap.map((s) => s / 100)) });
    await p.locator('[data-testid=live-indicator][data-state=live]').waitFor({ timeout: 30_000 });
    // And live again after the reconnect.
    await client.logBatch(run.id, { metrics: metricBatch('acc', [52, 53], [0.52, 0.53]) });
    await p.waitForFunction(() => document.querySelector('[data-testid=metric-panel][data-metric=acc]')?.getAttribute('data-last-step') === '53', null, { timeout: 30_000 });
    assert.equal(await panel.getAttribute('data-points'), '54', 'steps 0..53, none missing');
    assert.ok(Number(await p.getByTestId('metrics-view').getAttribute('data-backfills')) >= 1, 'a catch-up fetch ran after the reconnect');
    assert.equal(await p.evaluate(() => window.__noReload), true);
    await shot(p, '17-backfilled');
    await client.finishRun(run.id, 'FINISHED');
    await ctx.close();
  });
}
