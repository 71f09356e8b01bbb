// 410 for real: a stack whose tombstones are kept for 0 days, so any token a second old is too
// old, as a device offline past SYNC_TOMBSTONE_DAYS meets it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startStack, stopStack, type Stack } from './stack.js';
import { device, makeWorld, type World } from './world.js';

let stack: Stack;
let world: World;

beforeAll(async () => {
  stack = await startStack({ SYNC_TOMBSTONE_DAYS: '0' }, inject('keyFile'));
  world = await makeWorld(3, stack.baseUrl, stack.keyFile);
});

afterAll(async () => {
  if (stack) await stopStack(stack);
});

it('answers a 410 with a fresh snapshot that replaces the records and keeps the queue', async () => {
  const a = await device(world, world.worker);
  const b = await device(world, world.worker);
  const kept = await world.api.ok(world.worker, 'POST', `/families/${world.family}/notes`, { body: 'Still here.' });
  const gone = await world.api.ok(world.worker, 'POST', `/families/${world.family}/notes`, { body: 'Deleted meanwhile.' });
  expect((await a.client.sync()).snapshot).toBe(true);
  await b.client.sync();
  // A change this device made that the server will refuse as a conflict stays queued.
  await a.client.update('note', kept.id, { body: 'Mine.' });
  await b.client.update('note', kept.id, { body: 'Theirs.' });
  await new Promise((r) => setTimeout(r, 1_100));
  await world.api.ok(world.worker, 'DELETE', `/families/${world.family}/notes/${gone.id}`);
  const theirs = await b.client.sync(); // b's token is too old as well
  expect(theirs.snapshot).toBe(true);
  await new Promise((r) => setTimeout(r, 1_100));

  const report = await a.client.sync();
  expect(report).toMatchObject({ snapshot: true, conflicts: 1 });
  expect(await a.client.record('note', gone.id)).toBeUndefined();
  expect((await a.client.record('note', kept.id))?.data['body']).toBe('Theirs.');
  expect(await a.client.conflicts()).toMatchObject([{ id: kept.id, conflicts: [{ field: 'body', yours: 'Mine.' }] }]);
  a.client.close();
  b.client.close();
});
