/**
 * The end-to-end data set: two experiments, flat runs with params and learning curves, a
 * "hero" run with a long noisy loss (NaN included), source, environment, datasets and
 * artifacts, and a parent run with children. Returns what the tests need to predict results.
 */
import { gradientPng, metricBatch } from './fixtures.mjs';

const MODELS = ['rf', 'xgb', 'lr'];
const RATES = ['0.1', '0.01', '0.001'];

export async function seedE2E(client, { withArtifacts }) {
  const t0 = Date.UTC(2026, 0, 15, 9, 0, 0);
  const churn = await client.createExperiment('churn', 'Customer churn classifier');
  const baseline = await client.createExperiment('baseline', 'Reference models');
  const runs = [];

  for (let i = 0; i < 24; i++) {
    const model = MODELS[i % 3];
    const acc = 0.5 + ((i * 37) % 50) / 100;
    const run = await client.createRun({
      experimentId: churn.id,
      name: `${model}-${String(i).padStart(2, '0')}`,
      startTime: t0 + i * 60_000,
      user: i % 2 ? 'ana' : 'ben',
    });
    const steps = Array.from({ length: 20 }, (_, s) => s);
    const accs = steps.map((s) => Number((acc * (0.6 + (0.4 * s) / 19)).toFixed(4)));
    const losses = accs.map((a) => Number((1 - a).toFixed(4)));
    await client.logBatch(run.id, {
      params: [
        { key: 'model', value: model },
        { key: 'lr', value: RATES[Math.floor(i / 3) % 3] },
        { key: 'max_depth', value: String(2 + (i % 5)) },
      ],
      tags: [{ key: 'team', value: i % 2 ? 'vision' : 'growth' }],
      metrics: {
        keys: [...steps.map(() => 'acc'), ...steps.map(() => 'loss')],
        steps: [...steps, ...steps],
        values: [...accs, ...losses],
        timestamps: [...steps, ...steps].map((s) => t0 + i * 60_000 + s * 1000),
      },
    });
    const status = i % 7 === 3 ? 'FAILED' : i % 11 === 5 ? 'RUNNING' : 'FINISHED';
    if (status !== 'RUNNING') await client.finishRun(run.id, status, t0 + i * 60_000 + 45_000 + i * 1000);
    runs.push({ id: run.id, name: run.name, model, acc: accs[19] });
  }

  // The run the run-page tests open.
  const hero = await client.createRun({
    experimentId: churn.id,
    name: 'hero-rf',
    startTime: t0 + 30 * 60_000,
    user: 'ana',
    source: { entryPoint: 'train.py', gitCommit: 'abc1234def5678', gitBranch: 'main', gitDirty: true, gitRemote: 'git@example.com:ml/churn.git' },
    environment: { python: '3.11.9', platform: 'Linux-6.1-x86_64', packages: { numpy: '2.1.0', scikit_learn: '1.5.2' } },
  });
  const n = 5000;
  const steps = Array.from({ length: n }, (_, s) => s);
  const loss = steps.map((s) => (s === 1600 ? 'NaN' : Number((Math.exp(-s / 900) + 0.05 * Math.sin(s / 7)).toFixed(6))));
  for (let start = 0; start < n; start += 2500) {
    const part = steps.slice(start, start + 2500);
    await client.logBatch(hero.id, { metrics: metricBatch('loss', part, loss.slice(start, start + 2500), t0) });
  }
  await client.logBatch(hero.id, {
    params: [
      { key: 'model', value: 'rf' },
      { key: 'lr', value: '0.05' },
      { key: 'max_depth', value: '12' },
      { key: 'n_estimators', value: '300' },
    ],
    tags: [{ key: 'team', value: 'growth' }],
    metrics: metricBatch('acc', [0, 1, 2, 3], [0.9, 0.95, 0.99, 0.995], t0),
  });
  await client.logInputs(hero.id, [
    { name: 'churn-train', digest: 'sha256:9f2c', source: 's3://data/churn/train.parquet', sourceType: 's3', context: 'train' },
  ]);
  await client.finishRun(hero.id, 'FINISHED', t0 + 30 * 60_000 + 754_000);
  runs.push({ id: hero.id, name: 'hero-rf', model: 'rf', acc: 0.995 });

  // A parent with nested runs (a sweep).
  const parent = await client.createRun({ experimentId: churn.id, name: 'sweep-parent', startTime: t0 + 40 * 60_000 });
  const children = [];
  for (let c = 0; c < 3; c++) {
    const child = await client.createRun({
      experimentId: churn.id,
      name: `sweep-child-${c}`,
      parentRunId: parent.id,
      startTime: t0 + 41 * 60_000 + c,
    });
    await client.logBatch(child.id, {
      params: [{ key: 'model', value: 'xgb' }],
      metrics: metricBatch('acc', [0], [0.3 + c / 100], t0),
    });
    await client.finishRun(child.id, 'FINISHED', t0 + 42 * 60_000 + c * 7000);
    children.push({ id: child.id, name: `sweep-child-${c}`, model: 'xgb', acc: 0.3 + c / 100 });
  }
  await client.finishRun(parent.id, 'FINISHED', t0 + 47 * 60_000);

  for (let b = 0; b < 3; b++) {
    const run = await client.createRun({ experimentId: baseline.id, name: `baseline-${b}`, startTime: t0 + b });
    await client.logBatch(run.id, { params: [{ key: 'model', value: 'lr' }], metrics: metricBatch('acc', [0], [0.6 + b / 10], t0) });
    await client.finishRun(run.id, 'FINISHED', t0 + b + 30_000);
  }

  let artifacts = false;
  if (withArtifacts) {
    await client.putArtifact(hero.id, 'README.md', '# Churn model\n\nTrained on **churn-train**.\n\n- rf, 300 trees\n- depth 12\n', 'text/markdown');
    await client.putArtifact(hero.id, 'metrics.json', JSON.stringify({ acc: 0.995, auc: 0.97, confusion: [[90, 3], [2, 105]] }), 'application/json');
    await client.putArtifact(hero.id, 'config.yaml', 'model: rf\nn_estimators: 300\nmax_depth: 12\n', 'application/yaml');
    const csv = ['customer_id,tenure,churned', ...Array.from({ length: 500 }, (_, r) => `${1000 + r},${r % 72},${r % 3 === 0}`)].join('\n');
    await client.putArtifact(hero.id, 'data/sample.csv', csv, 'text/csv');
    await client.putArtifact(hero.id, 'plots/curve.png', gradientPng(), 'image/png');
    artifacts = true;
  }

  const all = [...runs, { id: parent.id, name: 'sweep-parent', model: null, acc: null }, ...children];
  return { churn, baseline, hero, parent, children, runs: all, artifacts };
}
