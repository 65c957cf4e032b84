/**
 * A live mltrail for Node-side tools, shared by the browser tests (e2e/run.mjs) and the
 * dashboard benchmark (bench/dashboard.mjs), neither of which imports the other: start a real
 * `mltrail server` on a free port with a throw-away data directory and the built SPA, talk to
 * it through GraphQL and the artifact HTTP API, and launch Debian's Chromium through
 * playwright-core.
 *
 * It lives in frontend/ because it needs what frontend/ has: playwright-core resolves from
 * frontend/node_modules (a module under bench/ could not import it) and the SPA it serves is
 * frontend/dist. Test-only data (e2e/fixtures.mjs) and benchmark-only seeding
 * (bench/dashboard.mjs) stay with their callers.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FRONTEND_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(FRONTEND_DIR, '..');

export function mltrailBin() {
  return process.env.MLTRAIL_BIN ?? join(REPO_DIR, '.venv', 'bin', 'mltrail');
}

export function chromiumPath() {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** Starts the server on a free port; resolves once /healthz answers. */
export async function startServer({ staticDir = join(FRONTEND_DIR, 'dist'), log = false } = {}) {
  const bin = mltrailBin();
  if (!existsSync(bin)) throw new Error(`mltrail not found at ${bin} (set MLTRAIL_BIN)`);
  if (!existsSync(join(staticDir, 'index.html'))) throw new Error(`no SPA build in ${staticDir}: run npm run build`);
  const dataDir = mkdtempSync(join(tmpdir(), 'mltrail-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let output = '';
  let child = await spawnServer({ bin, port, dataDir, staticDir, log, baseUrl, collect: (s) => (output += s) });
  const stopChild = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  };
  return {
    baseUrl,
    dataDir,
    output: () => output,
    /** Kills the process at once (no graceful shutdown), keeping its data: a crash. */
    async kill() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    /** Starts the server again on the same port and data directory. */
    async restart() {
      await stopChild();
      child = await spawnServer({ bin, port, dataDir, staticDir, log, baseUrl, collect: (s) => (output += s) });
    },
    async stop() {
      await stopChild();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function spawnServer({ bin, port, dataDir, staticDir, log, baseUrl, collect }) {
  const child = spawn(
    bin,
    ['server', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--static-dir', staticDir, '--log-level', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const onData = (chunk) => {
    output += chunk.toString();
    collect(chunk.toString());
    if (log) process.stderr.write(chunk);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mltrail server exited (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`${baseUrl}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mltrail server did not become healthy:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

export class GraphQLRequestError extends Error {
  constructor(errors) {
    super(errors.map((e) => `${e.extensions?.code ?? ''} ${e.message}`).join('; '));
    this.errors = errors;
  }
}

export function api(baseUrl) {
  async function gql(query, variables = {}) {
    const r = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = await r.json();
    if (body.errors?.length) throw new GraphQLRequestError(body.errors);
    return body.data;
  }
  return {
    gql,
    async createExperiment(name, description = null) {
      const d = await gql('mutation($n:String!,$d:String){createExperiment(name:$n,description:$d){id name}}', { n: name, d: description });
      return d.createExperiment;
    },
    async createRun(vars) {
      const d = await gql(
        `mutation($e:ID!,$n:String,$p:ID,$s:Long,$u:String,$src:RunSourceInput,$env:JSON,$t:[TagInput!]){
           createRun(experimentId:$e,name:$n,parentRunId:$p,startTime:$s,user:$u,source:$src,environment:$env,tags:$t){id name}}`,
        {
          e: vars.experimentId,
          n: vars.name ?? null,
          p: vars.parentRunId ?? null,
          s: vars.startTime ?? null,
          u: vars.user ?? null,
          src: vars.source ?? null,
          env: vars.environment ?? null,
          t: vars.tags ?? null,
        },
      );
      return d.createRun;
    },
    async logBatch(runId, { metrics = null, params = null, tags = null, batchId = null }) {
      const d = await gql(
        'mutation($r:ID!,$b:String,$m:MetricBatchInput,$p:[ParamInput!],$t:[TagInput!]){logBatch(runId:$r,batchId:$b,metrics:$m,params:$p,tags:$t){metricsWritten}}',
        { r: runId, b: batchId, m: metrics, p: params, t: tags },
      );
      return d.logBatch;
    },
    async finishRun(runId, status = 'FINISHED', endTime = null) {
      await gql('mutation($r:ID!,$s:RunStatus,$e:Long){updateRun(id:$r,status:$s,endTime:$e){id}}', { r: runId, s: status, e: endTime });
    },
    async logInputs(runId, datasets) {
      await gql('mutation($r:ID!,$d:[DatasetSpec!]!){logInputs(runId:$r,datasets:$d){id}}', { r: runId, d: datasets });
    },
    async putArtifact(runId, path, body, contentType = 'application/octet-stream') {
      const url = `${baseUrl}/api/artifacts/${runId}/${path.split('/').map(encodeURIComponent).join('/')}`;
      const r = await fetch(url, { method: 'PUT', body, headers: { 'content-type': contentType } });
      if (!r.ok) throw new Error(`PUT ${path}: HTTP ${r.status} ${await r.text()}`);
    },
    /** Whether the served schema has Run.artifacts (issue 4). */
    async hasArtifactListing() {
      const d = await gql('{ __type(name: "Run") { fields { name } } }');
      return d.__type.fields.some((f) => f.name === 'artifacts');
    },
  };
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
