import { beforeAll, describe, expect, it } from 'vitest';
import { FamilyStoryClient } from '../src/index.js';
import { device, makeWorld, type World } from './world.js';

let world: World;

beforeAll(async () => {
  world = await makeWorld(0);
});

const notesOnServer = async (): Promise<any[]> =>
  (await world.api.ok(world.worker, 'GET', `/families/${world.family}/notes?limit=100`)).items;

describe('offline writes', () => {
  it('creates, updates and deletes offline, shows them pending, then syncs them', async () => {
    const { client, network } = await device(world, world.worker);
    const first = await client.sync();
    expect(first.snapshot).toBe(true);
    expect((await client.families()).map((f) => f.id)).toContain(world.family);

    network.offline = true;
    const made = await client.create('note', world.family, { body: 'Written on the bus home.' });
    const doomed = await client.create('note', world.family, { body: 'Never sent.' });
    await client.update('note', made.id, { body: 'Written on the bus home, then corrected.' });
    const local = await client.record('note', made.id);
    expect(local?.pending).toBe(true);
    expect(local?.data['body']).toBe('Written on the bus home, then corrected.');
    // A create and the change that followed it travel as one operation.
    expect((await client.queue()).map((op) => [op.action, op.status])).toEqual([
      ['create', 'queued'],
      ['create', 'queued'],
    ]);
    await client.remove('note', doomed.id);
    expect(await client.record('note', doomed.id)).toBeUndefined();
    await expect(client.sync()).rejects.toThrow(/network is down/);
    expect(await client.queue()).toHaveLength(1);

    network.offline = false;
    const report = await client.sync();
    expect(report).toMatchObject({ pushed: 1, applied: 1, conflicts: 0, rejected: 0 });
    expect(await client.queue()).toEqual([]);
    const synced = await client.record('note', made.id);
    expect(synced?.pending).toBe(false);
    const server = await world.api.ok(world.worker, 'GET', `/families/${world.family}/notes/${made.id}`);
    expect(server.body).toBe('Written on the bus home, then corrected.');
    expect(synced?.version).toBe(server.version);
    expect((await notesOnServer()).map((n) => n.id)).not.toContain(doomed.id);

    // Changed and then deleted offline: the server keeps neither.
    network.offline = true;
    await client.update('note', made.id, { body: 'Changed my mind.' });
    await client.remove('note', made.id);
    expect(await client.record('note', made.id)).toBeUndefined();
    network.offline = false;
    expect(await client.sync()).toMatchObject({ pushed: 1, applied: 1 });
    expect((await world.api.call(world.worker, 'GET', `/families/${world.family}/notes/${made.id}`)).status).toBe(404);
    client.close();
  });

  it('replays the same opId after a tab closed mid-push, and the server answers its first result', async () => {
    const first = await device(world, world.worker);
    await first.client.sync();
    const made = await first.client.create('note', world.family, { body: 'Pushed as the tab closed.' });
    let delivered: any;
    // The request reaches the server and is applied; its answer never reaches the tab.
    first.options.fetch = undefined;
    const cut: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).endsWith('/sync') && init?.method === 'POST') {
        delivered = await response.json();
        return new Promise<Response>(() => undefined); // the tab is gone
      }
      return response;
    };
    const tab = await FamilyStoryClient.open({ ...first.options, fetch: cut });
    void tab.sync();
    while (!delivered) await new Promise((r) => setTimeout(r, 20));
    first.client.close();

    const reopened = await FamilyStoryClient.open(first.options);
    const queued = await reopened.queue();
    expect(queued).toMatchObject([{ opId: made.opId, status: 'pushing' }]);
    const report = await reopened.sync();
    expect(report).toMatchObject({ pushed: 1, applied: 1, rejected: 0, conflicts: 0 });
    const notes = (await notesOnServer()).filter((n) => n.id === made.id);
    expect(notes).toHaveLength(1);
    expect(delivered.results[0]).toMatchObject({ opId: made.opId, status: 'applied', version: notes[0].version });
    expect((await reopened.record('note', made.id))?.version).toBe(notes[0].version);
    reopened.close();
  });

  it('de-duplicates the overlap window by id and version', async () => {
    const { client } = await device(world, world.worker);
    await client.sync();
    const held = await client.records(world.family);
    // Within the overlap window the server sends the same changes again: nothing is taken twice.
    const again = await client.sync();
    expect(again.snapshot).toBe(false);
    expect(again.pulled).toBe(0);
    expect(await client.records(world.family)).toEqual(held);
    // A change made elsewhere meanwhile is taken, once.
    const note = await world.api.ok(world.worker, 'POST', `/families/${world.family}/notes`, { body: 'From the office.' });
    expect((await client.sync()).pulled).toBe(1);
    expect((await client.sync()).pulled).toBe(0);
    expect((await client.record('note', note.id))?.data['body']).toBe('From the office.');
    client.close();
  });
});

describe('two tabs of one device, one pull delayed', () => {
  /** A second tab on the same store, and a first whose pull answers are held until released:
   * a slow network, not an imitation of the server (every body is the server's own). */
  async function tabs() {
    const first = await device(world, world.worker);
    await first.client.sync();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const pages: any[] = [];
    let holding = false;
    const slow: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!holding || !String(input).includes('/sync?since=')) return response;
      const body = await response.text();
      pages.push(JSON.parse(body));
      await gate;
      return new Response(body, { status: response.status, headers: response.headers });
    };
    first.client.close();
    const slowTab = await FamilyStoryClient.open({ ...first.options, fetch: slow });
    const otherTab = await FamilyStoryClient.open({ ...first.options, fetch: undefined });
    return {
      slowTab, otherTab, pages, release,
      hold: () => (holding = true),
    };
  }

  async function delayedPull(change: (otherTab: FamilyStoryClient, id: string) => Promise<void>) {
    const note = await world.api.ok(world.worker, 'POST', `/families/${world.family}/notes`, { body: 'As first written.' });
    const { slowTab, otherTab, pages, release, hold } = await tabs();
    hold();
    // The first tab's pull leaves; the server answers with the note as first written (the
    // overlap window sends it again), and the answer is slow to arrive.
    const pulling = slowTab.sync();
    while (!pages.length) await new Promise((r) => setTimeout(r, 20));
    const sent = pages[0].changes.find((c: any) => c.id === note.id);
    expect(sent).toMatchObject({ version: note.version, data: { body: 'As first written.' } });
    // Meanwhile the other tab takes a newer version into the shared store.
    await change(otherTab, note.id);
    const newer = await otherTab.record('note', note.id);
    expect(newer?.version).not.toBe(note.version);
    release();
    await pulling;
    return { note, slowTab, otherTab, newer: newer! };
  }

  it('an older copy from a late pull page never replaces a newer one pulled meanwhile', async () => {
    const { note, slowTab, otherTab, newer } = await delayedPull(async (otherTab, id) => {
      await world.api.ok(world.worker, 'PATCH', `/families/${world.family}/notes/${id}`, { body: 'Corrected at the office.' });
      await otherTab.sync();
    });
    const server = await world.api.ok(world.worker, 'GET', `/families/${world.family}/notes/${note.id}`);
    expect(newer).toMatchObject({ version: server.version, data: { body: 'Corrected at the office.' } });
    for (const tab of [slowTab, otherTab]) {
      expect(await tab.record('note', note.id)).toMatchObject({ version: server.version, data: { body: 'Corrected at the office.' } });
    }
    slowTab.close();
    otherTab.close();
  });

  it("an older copy from a late pull page never replaces this device's own change pushed meanwhile", async () => {
    const { note, slowTab, otherTab } = await delayedPull(async (otherTab, id) => {
      await otherTab.update('note', id, { body: 'Corrected in the other tab.' });
      expect(await otherTab.sync()).toMatchObject({ applied: 1 });
    });
    const server = await world.api.ok(world.worker, 'GET', `/families/${world.family}/notes/${note.id}`);
    expect(server.body).toBe('Corrected in the other tab.');
    const shown = await slowTab.record('note', note.id);
    expect(shown).toMatchObject({ version: server.version, data: { body: 'Corrected in the other tab.' } });
    // A further change builds on the version this device made, and is applied, not a conflict.
    await slowTab.update('note', note.id, { body: 'Corrected once more.' });
    expect(await slowTab.sync()).toMatchObject({ applied: 1, conflicts: 0 });
    slowTab.close();
    otherTab.close();
  });
});

describe('conflicts between two devices', () => {
  async function twoDevices(body: Record<string, unknown>) {
    const a = await device(world, world.worker);
    const b = await device(world, world.worker);
    await a.client.sync();
    const made = await a.client.create('note', world.family, body);
    await a.client.sync();
    await b.client.sync();
    return { a: a.client, b: b.client, id: made.id };
  }

  it('surfaces the fields in conflict, and keeps nothing until the app chooses', async () => {
    const { a, b, id } = await twoDevices({ body: 'First words.' });
    await a.update('note', id, { body: 'Yours.' });
    await b.update('note', id, { body: 'Theirs.' });
    await b.sync();
    const seen: unknown[] = [];
    a.addEventListener('conflict', (event) => seen.push((event as CustomEvent).detail));
    const report = await a.sync();
    expect(report.conflicts).toBe(1);
    const [conflict] = await a.conflicts();
    expect(conflict?.conflicts).toEqual([{ field: 'body', yours: 'Yours.', theirs: 'Theirs.' }]);
    expect(conflict?.current?.['body']).toBe('Theirs.');
    expect(seen).toHaveLength(1);
    // The record shows the server's copy, marked as waiting for a choice, not as queued.
    expect(await a.record('note', id)).toMatchObject({ conflict: true, pending: false, data: { body: 'Theirs.' } });
    // Another sync does not settle it.
    await a.sync();
    expect(await a.conflicts()).toHaveLength(1);

    await a.resolve(conflict!.opId, { keep: 'yours' });
    expect(await a.conflicts()).toEqual([]);
    expect(await a.record('note', id)).toMatchObject({ conflict: false, pending: true, data: { body: 'Yours.' } });
    expect(await a.sync()).toMatchObject({ applied: 1, conflicts: 0 });
    const server = await world.api.ok(world.worker, 'GET', `/families/${world.family}/notes/${id}`);
    expect(server.body).toBe('Yours.');
    a.close();
    b.close();
  });

  it('keeps theirs: the operation is dropped and the device shows the server copy', async () => {
    const { a, b, id } = await twoDevices({ body: 'First words.' });
    await a.update('note', id, { body: 'Yours.' });
    await b.update('note', id, { body: 'Theirs.' });
    await b.sync();
    await a.sync();
    const [conflict] = await a.conflicts();
    await a.resolve(conflict!.opId, { keep: 'theirs' });
    expect(await a.queue()).toEqual([]);
    const record = await a.record('note', id);
    expect(record).toMatchObject({ pending: false, data: { body: 'Theirs.' } });
    expect(await a.sync()).toMatchObject({ pushed: 0 });
    expect((await world.api.ok(world.worker, 'GET', `/families/${world.family}/notes/${id}`)).body).toBe('Theirs.');
    a.close();
    b.close();
  });

  it('chooses field by field', async () => {
    const { a, b, id } = await twoDevices({ body: 'First words.', significant: false });
    await a.update('note', id, { body: 'Yours.', significant: true });
    await b.update('note', id, { body: 'Theirs.', visibility: 'family' });
    await b.sync();
    await a.sync();
    const [conflict] = await a.conflicts();
    // Only the fields both changed are in conflict; the rest of yours stays in the operation.
    expect(conflict?.conflicts).toEqual([{ field: 'body', yours: 'Yours.', theirs: 'Theirs.' }]);
    await a.resolve(conflict!.opId, { keep: 'fields', choose: { body: 'theirs', significant: 'yours' } });
    expect(await a.sync()).toMatchObject({ applied: 1, conflicts: 0 });
    const server = await world.api.ok(world.worker, 'GET', `/families/${world.family}/notes/${id}`);
    expect(server).toMatchObject({ body: 'Theirs.', significant: true, visibility: 'family' });
    expect((await a.record('note', id))?.data).toMatchObject({ body: 'Theirs.', significant: true });
    a.close();
    b.close();
  });
});
