// The committed types are the running app's document, generated: any drift fails here.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, inject, it } from 'vitest';

const run = promisify(execFile);
const HERE = resolve(import.meta.dirname, '..');

/** The pinned openapi-typescript of the npm workspace (hoisted to the nearest node_modules). */
function findCli(): string {
  for (let folder = HERE; ; folder = dirname(folder)) {
    const cli = join(folder, 'node_modules/openapi-typescript/bin/cli.js');
    if (existsSync(cli)) return cli;
    if (dirname(folder) === folder) throw new Error('openapi-typescript is not installed (npm ci)');
  }
}

it('src/schema.d.ts is what openapi-typescript makes of the served document, without warnings', async () => {
  const cli = findCli();
  const folder = mkdtempSync(join(tmpdir(), 'familystory-types-'));
  try {
    const out = join(folder, 'schema.d.ts');
    // As `npm run types` runs it, against the stack the tests started.
    const { stdout, stderr } = await run(process.execPath, [cli, `${inject('baseUrl')}/openapi.json`, '-o', out], { cwd: HERE });
    expect(`${stdout}\n${stderr}`).not.toMatch(/warn|⚠|error/i);
    const generated = readFileSync(out, 'utf8');
    expect(generated).toContain('"/sync"');
    const committed = readFileSync(join(HERE, 'src/schema.d.ts'), 'utf8');
    expect(committed, 'src/schema.d.ts drifted from the app: run `npm run types` with the stack running').toBe(generated);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
