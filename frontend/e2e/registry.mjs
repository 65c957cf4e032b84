/**
 * Browser tests of the registry views (issue 17), called from run.mjs with its `step` and
 * server. Seeded through the real Python client (e2e/seed_registry.py: two scikit-learn models
 * logged with input examples, registered as e2e-churn v1 and v2, v1 promoted through an
 * approval). Then: browse models → model → version → run; a transition with a comment appearing
 * in the timeline of a second browser context that did nothing (live); an approval request by
 * one user approved by another (users through X-Mltrail-User, set in the header box); moving an
 * alias; comparing two versions; the run page listing its versions.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { FRONTEND_DIR, mltrailBin } from '../tools/live-server.mjs';

function seedRegistry(baseUrl) {
  const python = process.env.MLTRAIL_PYTHON ?? join(dirname(mltrailBin()), 'python');
  const r = spawnSync(python, [join(FRONTEND_DIR, 'e2e', 'seed_registry.py')], {
    env: { ...process.env, MLTRAIL_TRACKING_URI: baseUrl, MLTRAIL_CAPTURE_ENVIRONMENT: '0' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`seed_registry.py failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Acts as `name` from now on in this page's context (the header box, stored in localStorage). */
async function actAs(page, name) {
  await page.getByTestId('acting-user-change').click();
  await page.getByTestId('acting-user-input').fill(name);
  await page.getByTestId('acting-user-save').click();
  await page.getByTestId('acting-user-name').filter({ hasText: name }).waitFor();
}

const timelineText = (page) => page.getByTestId('timeline').locator('.timeline-list').innerText();

export async function registrySteps({ step, browser, page, server, client, url, OUT }) {
  const shot = (p, name) => p.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
  let seed;

  await step('registry: seed through the Python client with real scikit-learn models', async () => {
    seed = seedRegistry(server.baseUrl);
    assert.equal(seed.runIds.length, 2);
  });
  const model = seed.model;

  await step('models list: latest per stage, aliases, last change, pending requests; search', async () => {
    await page.goto(url('/models'));
    const row = page.locator(`[data-testid=models-table] tr[data-model="${model}"]`);
    await row.waitFor();
    assert.match(await row.getByTestId('latest-per-stage').innerText(), /Production v1/);
    assert.match(await row.getByTestId('latest-per-stage').innerText(), /None v2/);
    assert.match(await row.innerText(), /@champion v1/);
    assert.match(await row.getByTestId('last-change').innerText(), /ana set @champion on version 1/);
    assert.match(await row.getByTestId('pending-requests').innerText(), /none/);
    await shot(page, '20-models');
    await page.getByTestId('models-search').fill('team=risk');
    await page.getByTestId('models-search').press('Enter');
    await page.waitForURL(/q=team%3Drisk/);
    await row.waitFor();
    await page.getByTestId('models-search').fill('no-such-model');
    await page.getByTestId('models-search').press('Enter');
    await page.getByText('No model matches "no-such-model".').waitFor();
  });

  await step('browse model → version → run: description, versions, timeline, lineage, signature', async () => {
    await page.goto(url('/models'));
    await page.locator('.model-link', { hasText: model }).click();
    await page.getByTestId('model-page').waitFor();
    assert.equal(await page.getByTestId('description').locator('h3').innerText(), 'Churn');
    assert.match(await page.getByTestId('tags-editor').innerText(), /team=risk/);
    const v1 = page.locator('[data-testid=versions-table] tr[data-version="1"]');
    assert.match(await v1.innerText(), /Production/);
    assert.match(await v1.innerText(), /@champion/);
    assert.match(await v1.innerText(), /accuracy 0\.\d+/);
    assert.match(await v1.innerText(), /logreg-C0\.5/);
    const history = await timelineText(page);
    assert.match(history, /bo approved version 1 → Production/);
    assert.match(history, /ok/);
    assert.match(history, /ana moved version 1 from None to Staging\s+offline eval passed/);
    // The version filter keeps only version 2's changes.
    await page.getByTestId('timeline-version').selectOption('2');
    await page.waitForFunction(() => document.querySelectorAll('.timeline-entry').length === 1);
    assert.match(await timelineText(page), /registered version 2/);
    await page.getByTestId('timeline-version').selectOption('');
    await shot(page, '21-model');

    await v1.locator('.version-link').click();
    await page.getByTestId('version-page').waitFor();
    const lineage = page.getByTestId('lineage');
    assert.match(await lineage.getByTestId('lineage-params').innerText(), /C\s+0\.5/);
    assert.match(await lineage.getByTestId('lineage-metrics').innerText(), /accuracy/);
    assert.match(await lineage.getByTestId('lineage-datasets').innerText(), /churn-train/);
    const inputs = page.getByTestId('signature-inputs');
    await inputs.waitFor();
    assert.match(await inputs.innerText(), /tenure_months\s+long/);
    assert.match(await inputs.innerText(), /monthly_charges\s+double/);
    assert.deepEqual(await page.getByTestId('input-example').locator('th').allInnerTexts(), ['tenure_months', 'monthly_charges']);
    assert.equal(await page.getByTestId('input-example').locator('tbody tr').count(), 3);
    assert.match(await page.getByTestId('requirements').innerText(), /scikit-learn==/);
    // Which version held Production a moment ago? Version 1 (approved during the seed).
    const now = await page.evaluate(() => {
      const d = new Date(Date.now() + 1000);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    });
    await page.getByTestId('version-at-time').fill(now);
    await page.getByTestId('version-at').getByRole('button', { name: 'Ask' }).click();
    assert.match(await page.getByTestId('version-at-answer').innerText(), /^Version 1 held Production at /);
    await shot(page, '22-version');

    await page.getByTestId('lineage-run').click();
    await page.waitForURL(new RegExp(`/runs/${seed.runIds[0]}$`));
    const box = page.getByTestId('registered-versions');
    await box.locator(`li[data-version="${model}/1"]`).waitFor();
    assert.match(await box.innerText(), new RegExp(`${model} version 1\\s+Production\\s*@champion`));
    await shot(page, '23-run-registered-versions');
    await box.getByRole('link', { name: `${model} version 1` }).click();
    await page.getByTestId('version-page').waitFor();
  });

  // A second browser context that only watches: the models list and the model page.
  const watcherCtx = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  const watchModels = await watcherCtx.newPage();
  const watchModel = await watcherCtx.newPage();
  try {
    await step('transition with a comment: the timeline entry appears, also live in another context', async () => {
      await watchModels.goto(url('/models'));
      await watchModels.locator(`tr[data-model="${model}"]`).waitFor();
      await watchModel.goto(url(`/models/${model}`));
      await watchModel.getByTestId('timeline').waitFor();
      await actAs(page, 'carol');
      await page.goto(url(`/models/${model}/versions/2`));
      const form = page.getByTestId('transition-form');
      await form.waitFor();
      // Production (protected here) needs a comment before anything can be sent.
      await form.getByTestId('transition-stage').selectOption('PRODUCTION');
      assert.equal(await form.getByTestId('transition-submit').isDisabled(), true);
      assert.match(await form.getByTestId('transition-blocked').innerText(), /Production is protected: say why in a comment/);
      await form.getByTestId('transition-stage').selectOption('STAGING');
      await form.getByTestId('transition-comment').fill('candidate: higher C');
      assert.equal(await form.getByTestId('transition-summary').innerText(), 'This moves version 2 from None to Staging. Recorded with your name and comment.');
      await form.getByTestId('transition-submit').click();
      await page.locator('h1 [data-stage=STAGING]').waitFor();
      await page.getByTestId('timeline').getByText('carol moved version 2 from None to Staging').waitFor();
      assert.match(await timelineText(page), /candidate: higher C/);
      // The watcher did nothing: no reload, the events arrive over its socket.
      await watchModel.getByTestId('timeline').getByText('carol moved version 2 from None to Staging').waitFor({ timeout: 10_000 });
      await watchModel.locator('[data-testid=versions-table] tr[data-version="2"] [data-stage=STAGING]').waitFor();
      await watchModels.locator(`tr[data-model="${model}"] [data-testid=last-change]`).getByText('carol moved version 2 from None to Staging').waitFor({ timeout: 10_000 });
      assert.match(await watchModels.locator(`tr[data-model="${model}"] [data-testid=latest-per-stage]`).innerText(), /Staging v2/);
      await shot(page, '24-transition');
      await shot(watchModel, '25-transition-live-other-context');
    });

    await step('an approval request by one user, refused to its author, approved by another', async () => {
      const form = page.getByTestId('transition-form');
      await form.getByTestId('transition-stage').selectOption('PRODUCTION');
      await form.getByTestId('transition-comment').fill('beats v1 on accuracy');
      assert.equal(await form.getByTestId('transition-archive').isChecked(), true);
      assert.match(
        await form.getByTestId('transition-summary').innerText(),
        /^This opens a request to move version 2 from Staging to Production, and archive version 1 \(now in Production\)\. Production is protected: another user must approve it\.$/,
      );
      await form.getByTestId('transition-submit').click();
      const mine = page.getByTestId('requests-panel').getByTestId('request-item');
      await mine.waitFor();
      assert.equal(await mine.getByTestId('request-approve').isDisabled(), true);
      assert.match(await mine.getByTestId('request-disabled-reason').innerText(), /You opened this request/);
      await watchModels.locator(`tr[data-model="${model}"] [data-testid=pending-requests]`).getByText(/1 pending: v2 → PRODUCTION \(carol\)/).waitFor({ timeout: 10_000 });
      await shot(page, '26-request-own');

      await actAs(watchModel, 'dave');
      const theirs = watchModel.getByTestId('requests-panel').getByTestId('request-item');
      await theirs.waitFor();
      assert.match(await theirs.innerText(), /carol asks to move version 2 to Production \(archiving the current holders\)/);
      await theirs.getByTestId('decision-comment').fill('reviewed the eval');
      await theirs.getByTestId('request-approve').click();
      await watchModel.getByTestId('timeline').getByText('dave approved version 2 → Production').waitFor();
      await watchModel.locator('[data-testid=versions-table] tr[data-version="2"] [data-stage=PRODUCTION]').waitFor();
      await watchModel.locator('[data-testid=versions-table] tr[data-version="1"] [data-stage=ARCHIVED]').waitFor();
      // The requester's page follows without a reload: the request is gone, the stage moved.
      await page.locator('h1 [data-stage=PRODUCTION]').waitFor({ timeout: 10_000 });
      assert.equal(await page.getByTestId('requests-panel').getByTestId('request-item').count(), 0);
      await shot(watchModel, '27-approved-by-another');
    });

    await step('move an alias from one version to another', async () => {
      const form = page.getByTestId('alias-form');
      await form.getByTestId('alias-name').fill('champion');
      assert.match(await form.getByTestId('alias-summary').innerText(), /^This will move @champion from version 1 to version 2;/);
      await form.getByTestId('alias-comment').fill('v2 is in production now');
      await form.getByTestId('alias-submit').click();
      await page.locator('h1 [data-alias=champion]').waitFor();
      await page.getByTestId('timeline').getByText('carol moved @champion from version 1 to version 2').waitFor();
      await watchModel.locator('[data-testid=versions-table] tr[data-version="2"] [data-alias=champion]').waitFor({ timeout: 10_000 });
      await shot(page, '28-alias-moved');
    });

    await step('the audit trail names each acting user (X-Mltrail-User from the header box)', async () => {
      const d = await client.gql('query($n:String!){registeredModel(name:$n){history{kind user comment version}}}', { n: model });
      const h = d.registeredModel.history.filter((c) => c.version === 2 || c.kind.startsWith('ALIAS'));
      const by = (kind) => h.filter((c) => c.kind === kind).map((c) => `${c.user}:${c.comment ?? ''}`);
      assert.deepEqual(by('TRANSITION_REQUESTED'), ['carol:beats v1 on accuracy']);
      assert.deepEqual(by('TRANSITION_APPROVED').slice(-1), ['dave:reviewed the eval']);
      assert.ok(by('STAGE_CHANGED').includes('carol:candidate: higher C'));
      assert.deepEqual(by('ALIAS_MOVED'), ['carol:v2 is in production now']);
    });

    await step('compare two versions: params, metrics and signature side by side', async () => {
      await page.goto(url(`/models/${model}`));
      await page.locator('[data-testid=versions-table] tr[data-version="1"] input[type=checkbox]').check();
      await page.locator('[data-testid=versions-table] tr[data-version="2"] input[type=checkbox]').check();
      await page.getByTestId('compare-versions').click();
      await page.waitForURL(/\/compare\?a=1&b=2$/);
      const diff = page.getByTestId('version-diff');
      await diff.locator('tr[data-row="params:C"]').waitFor();
      assert.deepEqual(await diff.locator('tr[data-row="params:C"] td').allInnerTexts(), ['0.5', '2.0']);
      // Same features, same signature: it differs in nothing, so "only what differs" hides it.
      await page.getByLabel(/Only what differs/).uncheck();
      await diff.locator('tr[data-row="signature:input tenure_months"]').waitFor();
      assert.deepEqual(await diff.locator('tr[data-row="signature:input tenure_months"] td').allInnerTexts(), ['long', 'long']);
      await shot(page, '29-compare-versions');
    });
  } finally {
    await watcherCtx.close();
  }
}
