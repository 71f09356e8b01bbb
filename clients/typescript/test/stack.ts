// Starts the real local stack (emulators and host) once for every test file, and stops every
// process of it afterwards.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
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
  for (const name of ['--web-port', '--cosmos-port', '--blob-port', '--queue-port', '--table-port']) {
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

export interface People {
  admin: string;
  slots: { workerOid: string; worker: string; parentOid: string; parent: string }[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    keyFile: string;
    people: People;
  }
}

const mint = promisify(execFile);

export async function token(keyFile: string, ...args: string[]): Promise<string> {
  const { stdout } = await mint(PYTHON, ['-m', 'local.token', ...args], {
    cwd: ROOT,
    env: { ...process.env, AUTH_DEV_ISSUER_KEY_FILE: keyFile },
  });
  return stdout.trim();
}

/** Tokens for every test file's people, minted while the stack starts. */
async function mintPeople(keyFile: string, admin: string, slots: number): Promise<People> {
  const made = await Promise.all(
    Array.from({ length: slots }, async () => {
      const workerOid = crypto.randomUUID();
      const parentOid = crypto.randomUUID();
      const [worker, parent] = await Promise.all([
        token(keyFile, 'staff', '--oid', workerOid, '--role', 'SocialWorker', '--name', 'Sam Patel'),
        token(keyFile, 'family', '--oid', parentOid, '--phone', `+447700900${slotPhone(parentOid)}`, '--name', 'Pat Jones'),
      ]);
      return { workerOid, worker, parentOid, parent };
    }),
  );
  return { admin, slots: made };
}

/** The parent's phone (the drama range's last three digits), derived from their oid. */
export function slotPhone(oid: string): string {
  return String(parseInt(oid.slice(0, 6), 16) % 1000).padStart(3, '0');
}

export const SLOTS = 5;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const folder = mkdtempSync(join(tmpdir(), 'familystory-client-key-'));
  const keyFile = join(folder, 'dev-issuer-key.pem');
  // The first token makes the key, before the stack or any other token could make another.
  const admin = await token(keyFile, 'staff', '--oid', crypto.randomUUID(), '--role', 'Admin');
  const [stack, people] = await Promise.all([startStack({}, keyFile), mintPeople(keyFile, admin, SLOTS)]);
  project.provide('baseUrl', stack.baseUrl);
  project.provide('keyFile', stack.keyFile);
  project.provide('people', people);
  return async () => {
    await stopStack(stack);
    rmSync(folder, { recursive: true, force: true });
  };
}
