// What a lost device gives away: visibility changes and revocation reach it, its store is
// ciphertext, and signing out or staying offline too long leaves nothing behind.
import { IDBFactory } from 'fake-indexeddb';
import { beforeAll, describe, expect, it } from 'vitest';
import { FamilyStoryClient, SignInRequired } from '../src/index.js';
import { databaseName } from '../src/vault.js';
import { noisePng } from './png.js';
import { device, makeWorld, untilProcessed, type World } from './world.js';

let world: World;

beforeAll(async () => {
  world = await makeWorld(1);
});

/** Every key and value the browser's IndexedDB would hold on disk, as text and raw bytes. */
async function everythingStored(factory: IDBFactory, name: string): Promise<string> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = factory.open(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const parts: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof ArrayBuffer) parts.push(Buffer.from(value).toString('latin1'), Buffer.from(value).toString('utf8'));
    else if (ArrayBuffer.isView(value)) walk(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) (parts.push(k), walk(v));
    else parts.push(String(value));
  };
  for (const store of Array.from(db.objectStoreNames)) {
    const tx = db.transaction(store);
    const [keys, values] = await Promise.all([
      new Promise<IDBValidKey[]>((r) => (tx.objectStore(store).getAllKeys().onsuccess = (e) => r((e.target as IDBRequest).result))),
      new Promise<unknown[]>((r) => (tx.objectStore(store).getAll().onsuccess = (e) => r((e.target as IDBRequest).result))),
    ]);
    keys.forEach((k) => walk(k));
    values.forEach((v) => walk(v));
  }
  db.close();
  return parts.join('\n');
}

async function databaseExists(factory: IDBFactory, userId: string): Promise<boolean> {
  const name = await databaseName(userId);
  return (await factory.databases()).some((d) => d.name === name);
}

describe('what reaches a family device', () => {
  it('drops a note un-shared from the family', async () => {
    const note = await world.api.ok(world.worker, 'POST', `/families/${world.family}/notes`, {
      body: 'Shared with the family for now.', visibility: 'family',
    });
    const { client } = await device(world, world.parent);
    await client.sync();
    expect((await client.record('note', note.id))?.data['body']).toBe('Shared with the family for now.');
    const secret = await world.api.ok(world.worker, 'POST', `/families/${world.family}/notes`, { body: 'For professionals only.' });
    await world.api.ok(world.worker, 'PATCH', `/families/${world.family}/notes/${note.id}`, { visibility: 'professionals' });
    const report = await client.sync();
    expect(report.pulled).toBeGreaterThan(0);
    expect(await client.record('note', note.id)).toBeUndefined();
    expect(await client.record('note', secret.id)).toBeUndefined();
    expect((await client.families()).map((f) => f.id)).toEqual([world.family]);
    client.close();
  });
});

describe('at rest', () => {
  it('holds ciphertext only: no note text, name or phone number in what IndexedDB stores', async () => {
    const { client, indexedDB, network } = await device(world, world.worker);
    await client.sync();
    const words = 'Mum says the boiler is broken again';
    await world.api.ok(world.worker, 'POST', `/families/${world.family}/notes`, { body: `${words} (office).` });
    await client.sync();
    network.offline = true;
    await client.create('note', world.family, { body: `${words} (queued).` });
    const stored = await everythingStored(indexedDB, await databaseName(world.worker.oid));
    expect(stored.length).toBeGreaterThan(1000);
    for (const secret of [words, 'Mum says', 'Jones', 'Pat Jones', world.phone, world.phone.slice(3), 'Sam Patel', world.worker.oid]) {
      expect(stored).not.toContain(secret);
    }
    // The device itself still reads them, through its key.
    const bodies = (await client.records(world.family, 'note')).map((n) => n.data['body']);
    expect(bodies).toEqual(expect.arrayContaining([`${words} (office).`, `${words} (queued).`]));
    client.close();
  });
});

describe('destroying the store', () => {
  it('signing out deletes the key and every record, queue entry and media blob', async () => {
    const { client, indexedDB, network } = await device(world, world.worker);
    await client.sync();
    network.offline = true;
    await client.create('note', world.family, { body: 'Unsent when signing out.' });
    const signals: unknown[] = [];
    client.addEventListener('signed-out', (e) => signals.push((e as CustomEvent).detail));
    expect(await databaseExists(indexedDB, world.worker.oid)).toBe(true);
    await client.signOut();
    expect(signals).toEqual([{ reason: 'sign-out' }]);
    expect(await databaseExists(indexedDB, world.worker.oid)).toBe(false);
    await expect(client.families()).rejects.toBeInstanceOf(SignInRequired);
    // Signing in again starts empty.
    const again = await FamilyStoryClient.open({ baseUrl: world.api.baseUrl, userId: world.worker.oid, getToken: async () => world.worker.token, indexedDB });
    expect(await again.queue()).toEqual([]);
    expect(await again.families()).toEqual([]);
    again.close();
  });

  it('past the maximum offline period the store is destroyed and the device must sign in again', async () => {
    let clock = Date.now();
    const { client, indexedDB, options } = await device(world, world.worker, { maxOfflineDays: 3, now: () => clock });
    await client.sync();
    clock += 2 * 86_400_000;
    expect((await client.families()).length).toBe(1);
    client.close();
    clock += 1.5 * 86_400_000;
    await expect(FamilyStoryClient.open(options)).rejects.toMatchObject({ name: 'SignInRequired', reason: 'expired' });
    expect(await databaseExists(indexedDB, world.worker.oid)).toBe(false);

    // Checked before each use too, not only on open.
    const kept = await device(world, world.worker, { maxOfflineDays: 3, now: () => clock });
    await kept.client.sync();
    clock += 4 * 86_400_000;
    await expect(kept.client.records(world.family)).rejects.toBeInstanceOf(SignInRequired);
    expect(await databaseExists(kept.indexedDB, world.worker.oid)).toBe(false);
  });

  it('a revoked family sign-in removes the family, its records and its cached media', async () => {
    const { client, indexedDB } = await device(world, world.parent);
    await client.sync();
    const photo = await client.upload(
      world.family,
      new Blob([noisePng(64, 64)], { type: 'image/png' }),
      { kind: 'photo', contentType: 'image/png', caption: 'Our dog' },
    );
    await untilProcessed(client, photo.id);
    expect((await client.media(photo.id, 'small'))?.size).toBeGreaterThan(0);
    const name = await databaseName(world.parent.oid);
    expect(await everythingStored(indexedDB, name)).toContain(`m|${photo.id}|small`);

    const links = await world.api.ok(world.worker, 'GET', `/families/${world.family}/members/${world.memberId}/links`);
    for (const link of links.items) {
      await world.api.ok(world.worker, 'DELETE', `/families/${world.family}/members/${world.memberId}/links/${link.id}`);
    }
    const signals: unknown[] = [];
    client.addEventListener('signed-out', (e) => signals.push((e as CustomEvent).detail));
    await expect(client.sync()).rejects.toMatchObject({ name: 'SignInRequired', reason: 'revoked' });
    expect(signals).toEqual([{ reason: 'revoked' }]);
    expect(await databaseExists(indexedDB, world.parent.oid)).toBe(false);
  });
});
