// A staff member taken off one of their families: that family leaves the device at the next
// sync, with its records and cached media, and the rest of the store stays.
import { beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { databaseName } from '../src/vault.js';
import { noisePng } from './png.js';
import { token } from './stack.js';
import { device, makeWorld, uid, untilProcessed, type Person, type World } from './world.js';

let world: World;
let manager: Person;
let team: string;
let other: string;

beforeAll(async () => {
  world = await makeWorld(4);
  const family = await world.api.ok(world.worker, 'GET', `/families/${world.family}`);
  team = family.teamId;
  const admin = { oid: '', token: inject('people').admin };
  const oid = uid();
  await world.api.ok(admin, 'PUT', `/staff/${oid}`, { displayName: 'Di Lead', teamIds: [team] });
  manager = { oid, token: await token(world.keyFile, 'staff', '--oid', oid, '--role', 'TeamManager', '--name', 'Di Lead') };
  other = (await world.api.ok(world.worker, 'POST', '/families', { displayName: 'Okafor', teamId: team })).id;
});

it('a worker taken off a family loses it, its records and its cached media; the other family stays', async () => {
  const kept = await world.api.ok(world.worker, 'POST', `/families/${world.family}/notes`, { body: 'Still my family.' });
  const lost = await world.api.ok(world.worker, 'POST', `/families/${other}/notes`, { body: 'Handed over to a colleague.' });
  const { client, indexedDB, network } = await device(world, world.worker);
  await client.sync();
  expect((await client.families()).map((f) => f.id).sort()).toEqual([world.family, other].sort());

  const photo = await client.upload(
    other,
    new Blob([noisePng(48, 48)], { type: 'image/png' }),
    { kind: 'photo', contentType: 'image/png', caption: 'The garden' },
  );
  await untilProcessed(client, photo.id);
  expect((await client.media(photo.id, 'small'))?.size).toBeGreaterThan(0);
  // Written offline while the family is handed over to a colleague.
  network.offline = true;
  await client.update('note', lost.id, { body: 'Written before the handover reached the device.' });
  network.offline = false;
  expect((await client.queue()).map((op) => op.familyId)).toEqual([other]);
  expect(await cachedMedia(indexedDB, await databaseName(world.worker.oid))).toEqual([`m|${photo.id}|small`]);
  await world.api.ok(manager, 'PATCH', `/families/${other}`, { workerIds: [manager.oid] });
  expect((await world.api.call(world.worker, 'GET', `/families/${other}`)).status).toBe(404);

  const signals: unknown[] = [];
  client.addEventListener('signed-out', (e) => signals.push((e as CustomEvent).detail));
  const report = await client.sync();
  expect(report).toMatchObject({ pushed: 1, applied: 0, familiesRemoved: [other] });
  expect(signals).toEqual([]);
  expect((await client.families()).map((f) => f.id)).toEqual([world.family]);
  expect(await client.records(other)).toEqual([]);
  expect(await client.record('media', photo.id)).toBeUndefined();
  expect(await client.queue()).toEqual([]);
  // The cached thumbnail left the store with the record (not fetched again: it is not held).
  const names = (await indexedDB.databases()).map((d) => d.name);
  expect(names).toContain(await databaseName(world.worker.oid));
  expect(await cachedMedia(indexedDB, await databaseName(world.worker.oid))).toEqual([]);
  // The other family and the store itself stay.
  expect((await client.record('note', kept.id))?.data['body']).toBe('Still my family.');
  expect((await client.sync()).familiesRemoved).toEqual([]);
  client.close();
});

/** The keys of the store's cached and uploading media (`m|…`, `up|…`). */
async function cachedMedia(factory: IDBFactory, name: string): Promise<IDBValidKey[]> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = factory.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
    const request = db.transaction('blobs').objectStore('blobs').getAllKeys();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  db.close();
  return keys;
}
