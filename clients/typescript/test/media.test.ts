import { beforeAll, expect, it } from 'vitest';
import { FamilyStoryClient } from '../src/index.js';
import { noisePng } from './png.js';
import { device, makeWorld, untilProcessed, type World } from './world.js';

let world: World;

beforeAll(async () => {
  world = await makeWorld(2);
});

it('resumes an upload after the connection dropped mid-way, and the media reaches ready', async () => {
  const { client, options } = await device(world, world.worker);
  await client.sync();
  const png = noisePng(200, 200); // about 120 KB: four blocks of 32 KiB
  const blocks: string[] = [];
  let dropped = false;
  const flaky: typeof fetch = async (input, init) => {
    const url = String(input);
    if (url.includes('comp=block&')) {
      if (blocks.length === 2 && !dropped) {
        dropped = true;
        throw new TypeError('fetch failed: connection reset');
      }
      blocks.push(url);
    }
    return fetch(input, init);
  };
  client.close();
  const tab = await FamilyStoryClient.open({ ...options, fetch: flaky });
  const progress: number[] = [];
  const pending = await tab.upload(
    world.family,
    new Blob([png], { type: 'image/png' }),
    { kind: 'photo', contentType: 'image/png', fileName: 'garden.png', caption: 'The garden' },
    { blockSize: 32 * 1024, onProgress: (sent) => progress.push(sent) },
  );
  expect(dropped).toBe(true);
  expect(pending.pending).toBe(true);
  expect(progress).toEqual([32 * 1024, 64 * 1024]);
  tab.close();

  // A new tab picks the upload up where it stopped: only the blocks not acknowledged are sent.
  const resumed = await FamilyStoryClient.open({ ...options, fetch: flaky });
  expect(await resumed.resumeUploads()).toBe(1);
  expect(blocks).toHaveLength(4);
  expect(await resumed.resumeUploads()).toBe(0);
  const ready = await untilProcessed(resumed, pending.id);
  expect(ready.data).toMatchObject({ status: 'ready', caption: 'The garden' });
  expect(ready.pending).toBe(false);
  const small = await resumed.media(pending.id, 'small');
  expect(small?.size).toBeGreaterThan(0);
  expect(small?.type).toMatch(/^image\//);
  resumed.close();
});

it('renews an upload URL Storage refuses by repeating the same POST, and the media reaches ready', async () => {
  const { client, options } = await device(world, world.worker);
  await client.sync();
  client.close();
  const png = noisePng(160, 160); // about 77 KB: three blocks of 32 KiB
  const slots: string[] = [];
  const storage: { block: string | null; status: number }[] = [];
  let tampered = false;
  // A fault in transit: the second block's URL reaches Storage with its signature altered, once.
  const garbling: typeof fetch = async (input, init) => {
    let url = String(input);
    if (url.endsWith(`/families/${world.family}/media`) && init?.method === 'POST') slots.push(String(init.body));
    if (url.includes('comp=block')) {
      const block = new URL(url).searchParams.get('blockid');
      if (storage.length === 1 && !tampered) {
        tampered = true;
        const altered = new URL(url);
        const sig = altered.searchParams.get('sig')!;
        altered.searchParams.set('sig', `${sig.slice(0, -4)}${sig.endsWith('AAA=') ? 'BBB=' : 'AAA='}`);
        url = altered.toString();
      }
      const response = await fetch(url, init);
      storage.push({ block, status: response.status });
      return response;
    }
    return fetch(input, init);
  };
  const tab = await FamilyStoryClient.open({ ...options, fetch: garbling });
  const made = await tab.upload(
    world.family,
    new Blob([png], { type: 'image/png' }),
    { kind: 'photo', contentType: 'image/png', fileName: 'kitchen.png', caption: 'The kitchen' },
    { blockSize: 32 * 1024 },
  );
  // Storage refused the altered signature (403); the same POST gave a URL for the same blob.
  expect(storage.map((s) => s.status)).toEqual([201, 403, 201, 201, 201]);
  expect(storage[1]!.block).toBe(storage[2]!.block);
  expect(slots).toHaveLength(2);
  expect(slots[1]).toBe(slots[0]);
  expect(made.id).toBe(JSON.parse(slots[0]!).id);
  const ready = await untilProcessed(tab, made.id);
  expect(ready.data).toMatchObject({ status: 'ready', caption: 'The kitchen' });
  expect((await tab.media(made.id, 'small'))?.size).toBeGreaterThan(0);
  tab.close();
});
