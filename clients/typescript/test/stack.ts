// Starts the real local stack (emulators and host) once for every test file, and stops every
// process of it afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const PYTHON = process.env['FAMILYSTORY_PYTHON'] ?? resolve(ROOT, '.venv/bin/python');

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export interface Stack {
  baseUrl: string;
  stateDir: string;
  keyFile: string;
  process: ChildProcess;
  output: () => string;
}

/** `python -m local.run` on free ports, with its own state folder and token key. */
export async function startStack(settings: Record<string, string> = {}, keyFile?: string): Promise<Stack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'familystory-client-'));
  const key = keyFile ?? join(stateDir, 'dev-issuer-key.pem');
  const port = await freePort();
  const args = ['-m', 'local.run', '--port', String(port)];
  for (const name of ['--cosmos-port', '--blob-port', '--queue-port', '--table-port']) {
    args.push(name, String(await freePort()));
  }
  args.push('--state-dir', join(stateDir, 'state'));
  let log = '';
  const child = spawn(PYTHON, args, {
    cwd: ROOT,
    env: { ...process.env, AUTH_DEV_ISSUER_KEY_FILE: key, LOG_LEVEL: 'WARNING', ...settings },
    detached: true, // its own process group, stopped as a whole
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const baseUrl = `http://127.0.0.1:${port}/api/v1`;
  const stack: Stack = { baseUrl, stateDir, keyFile: key, process: child, output: () => log };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the stack exited (${child.exitCode}):\n${log}`);
    try {
      const health = await fetch(`${baseUrl}/health`);
      if (health.status === 200) return stack;
    } catch {
      // not answering yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stopStack(stack);
  throw new Error(`the stack did not answer within 90 s:\n${log}`);
}

export async function stopStack(stack: Stack): Promise<void> {
  const pid = stack.process.pid;
  if (pid !== undefined && stack.process.exitCode === null) {
    const exited = new Promise((r) => stack.process.once('exit', r));
    try {
      process.kill(-pid, 'SIGINT');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
    try {
      process.kill(-pid, 'SIGKILL'); // anything of the group still running
    } catch {
      // all gone
    }
  }
  rmSync(stack.stateDir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    keyFile: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startStack();
  project.provide('baseUrl', stack.baseUrl);
  project.provide('keyFile', stack.keyFile);
  return () => stopStack(stack);
}
