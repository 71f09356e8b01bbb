// The real local stack for the browser tests: `python -m local.run` on free ports, in a state
// folder of its own, stopped (with every emulator) after the tests; and what every browser test
// shares: Chromium, the screenshots, the Content-Security-Policy refusals collected.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const WEB_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const REPO = resolve(WEB_ROOT, '..', '..');
export const ARTEFACTS = join(WEB_ROOT, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function waitFor(url, process, output, seconds = 90) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (process.exitCode !== null) throw new Error(`the local stack exited:\n${output.join('')}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer:\n${output.join('')}`);
}

/** The stack, serving the web app's build (clients/web/dist, or `webDist`: a copy). */
export async function startStack({ webDist = join(WEB_ROOT, 'dist') } = {}) {
  if (!existsSync(join(webDist, 'index.html'))) {
    throw new Error('The web app is not built: make test-web builds it (npm run build -w clients/web).');
  }
  const state = mkdtempSync(join(tmpdir(), 'familystory-web-'));
  const ports = {
    api: await freePort(),
    web: await freePort(),
    cosmos: await freePort(),
    blob: await freePort(),
    queue: await freePort(),
    table: await freePort(),
  };
  const python = process.env.PYTHON || join(REPO, '.venv', 'bin', 'python');
  const args = ['-m', 'local.run', '--port', ports.api, '--web-port', ports.web, '--cosmos-port', ports.cosmos,
    '--blob-port', ports.blob, '--queue-port', ports.queue, '--table-port', ports.table, '--state-dir', state,
    '--web-dist', webDist].map(String);
  const env = {
    ...process.env,
    AUTH_DEV_ISSUER_KEY_FILE: join(state, 'dev-issuer-key.pem'),
    AUDIT_SEAL_KEY_FILE: join(state, 'audit-seal.key'),
    SMS_OUTBOX_PATH: join(state, 'sms.jsonl'),
    COSMOS_DATABASE: `web-${Date.now().toString(36)}`,
    AUDIT_SEAL_SCHEDULE: '0 0 0 1 1 *',
  };
  const child = spawn(python, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output = [];
  child.stdout.on('data', (chunk) => output.push(String(chunk)));
  child.stderr.on('data', (chunk) => output.push(String(chunk)));
  const web = `http://localhost:${ports.web}`;
  const api = `http://localhost:${ports.api}/api/v1`;
  await waitFor(`http://127.0.0.1:${ports.api}/api/v1/health`, child, output);
  await waitFor(`http://127.0.0.1:${ports.web}/config.json`, child, output);
  return {
    web,
    api,
    // Node reaches the same servers by address (uvicorn listens on 127.0.0.1 only).
    webDirect: `http://127.0.0.1:${ports.web}`,
    apiDirect: `http://127.0.0.1:${ports.api}/api/v1`,
    state,
    output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGINT');
      const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/** A token of the local development issuer, from the web app's own sign-in endpoint. */
export async function token(stack, who) {
  const response = await fetch(`${stack.webDirect}/dev/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(who),
  });
  if (!response.ok) throw new Error(`/dev/token ${response.status}: ${await response.text()}`);
  return (await response.json()).token;
}

/** A call to the API as the given token; throws unless the status is the one expected. */
export async function api(stack, bearer, method, path, body, expected) {
  const response = await fetch(`${stack.apiDirect}${path}`, {
    method,
    headers: { Authorization: `Bearer ${bearer}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (expected !== undefined && response.status !== expected) {
    throw new Error(`${method} ${path}: ${response.status} (expected ${expected}) ${text}`);
  }
  return text ? JSON.parse(text) : undefined;
}

export function launch(options = {}) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, ...options });
}

/** Numbered full-page screenshots into `folder`, which keeps this run's only. */
export function screenshots(folder = ARTEFACTS) {
  mkdirSync(folder, { recursive: true });
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.png')) rmSync(join(folder, entry.name));
  }
  let shot = 0;
  return async (page, name) => {
    shot += 1;
    await page.screenshot({ path: join(folder, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
}

// Every page is served with the static host's Content-Security-Policy (local/web.py applies the
// app's staticwebapp.config.json as Azure does); anything the policy refuses is collected here.
export const policyViolations = [];

export function watched(context) {
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
  });
  return context;
}
