// The web app in Chromium against the real local stack: sign in, write offline, reload offline,
// sync, a conflict chosen, what a family member sees, a revoked sign-in, ciphertext on disk, and
// axe-core on each main screen. Screenshots of each step go to clients/web/test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { CHROMIUM, api, launch, policyViolations, screenshots, startStack, token, watched } from './stack.mjs';
import { fieldPng } from './picture.mjs';

const PHONE = '+447700900123';
const run = randomUUID().slice(0, 8);
const texts = {
  offline: `Visit went well, kitchen tidy ${run}`,
  mine: `Mum asked for a later visit time ${run}`,
  theirs: `Dad will join the next visit ${run}`,
  professional: `Professionals only: strategy discussion ${run}`,
  caption: `The field behind the flats ${run}`,
};

let stack;
let browser;
let worker; // { oid, token }
let family; // { id, memberId, oid, token }
let profileA;
let contextA;
let pageA;
let contextC;
let pageC;
let screenshot;

async function accessible(page, screen) {
  const results = await new AxeBuilder({ page }).analyze();
  const found = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
  assert.deepEqual(found, [], `axe-core on the ${screen} screen`);
}

async function signIn(page, role, oid, name) {
  await page.goto(stack.web);
  await page.getByRole('heading', { name: 'Sign in to FamilyStory' }).waitFor();
  await page.getByLabel('Role').selectOption({ label: role });
  await page.getByLabel('User id (a UUID)').fill(oid);
  await page.getByLabel('Display name (optional)').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Families' }).waitFor();
}

async function synced(page) {
  await page.locator('#sync-state[data-state="synced"]').waitFor({ timeout: 20_000 });
}

async function openFamily(page) {
  await page.getByRole('link', { name: 'Rivera family' }).click({ timeout: 20_000 });
  await page.getByRole('heading', { level: 1, name: 'Rivera family' }).waitFor();
}

before(async () => {
  stack = await startStack();
  screenshot = screenshots();
  const admin = await token(stack, { kind: 'staff', oid: randomUUID(), roles: ['Admin'] });
  const team = randomUUID();
  worker = { oid: randomUUID() };
  await api(stack, admin, 'PUT', `/staff/${worker.oid}`, { displayName: 'Sam Patel', teamIds: [team] }, 201);
  worker.token = await token(stack, { kind: 'staff', oid: worker.oid, roles: ['SocialWorker'], name: 'Sam Patel' });
  const made = await api(stack, worker.token, 'POST', '/families', { displayName: 'Rivera family', teamId: team }, 201);
  const member = await api(stack, worker.token, 'POST', `/families/${made.id}/members`,
    { displayName: 'Pat Rivera', relationship: 'mother', phone: PHONE, smsReminders: false }, 201);
  const { code } = await api(stack, worker.token, 'POST', `/families/${made.id}/invitations`, { memberId: member.id }, 201);
  family = { id: made.id, memberId: member.id, oid: randomUUID() };
  family.token = await token(stack, { kind: 'family', oid: family.oid, name: 'Pat Rivera', phone: PHONE });
  await api(stack, family.token, 'POST', '/invitations/redeem', { code }, 200);
  await api(stack, worker.token, 'POST', `/families/${made.id}/agendas`,
    { title: 'Next visit', items: [{ id: randomUUID(), text: 'School run', done: false }], visibility: 'family' }, 201);
  await api(stack, worker.token, 'POST', `/families/${made.id}/notes`, { body: texts.professional, visibility: 'professionals' }, 201);
  // A fake microphone (a tone) for MediaRecorder, and no permission prompt.
  browser = await launch({ args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
  profileA = mkdtempSync(join(tmpdir(), 'familystory-profile-'));
  contextA = watched(await chromium.launchPersistentContext(profileA, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 900 },
  }));
  pageA = contextA.pages()[0] ?? (await contextA.newPage());
});

after(async () => {
  await contextC?.close().catch(() => {});
  await contextA?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await stack?.stop();
  if (profileA) rmSync(profileA, { recursive: true, force: true });
  if (stack) rmSync(stack.state, { recursive: true, force: true });
});

test('a social worker signs in and sees their families', async () => {
  const served = await pageA.goto(stack.web);
  const policy = served.headers()['content-security-policy'] ?? '';
  assert.match(policy, /script-src 'self'/, 'the page is served with the static host\'s policy');
  assert.match(policy, /frame-ancestors 'none'/);
  await pageA.getByRole('heading', { name: 'Sign in to FamilyStory' }).waitFor();
  await accessible(pageA, 'sign-in');
  await screenshot(pageA, 'sign-in');
  await signIn(pageA, 'Social worker', worker.oid, 'Sam Patel');
  await pageA.getByRole('link', { name: 'Rivera family' }).waitFor({ timeout: 20_000 });
  await synced(pageA);
  await accessible(pageA, 'families');
  await screenshot(pageA, 'families');
  await openFamily(pageA);
  await pageA.getByText(texts.professional).waitFor();
  await pageA.getByText('School run').waitFor();
  await accessible(pageA, 'family story');
  await screenshot(pageA, 'family-story');
  await pageA.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  if (!(await pageA.evaluate(() => Boolean(navigator.serviceWorker.controller)))) await pageA.reload();
  assert.ok(await pageA.evaluate(() => Boolean(navigator.serviceWorker.controller)), 'the service worker controls the page');
});

test('a note written offline stays queued across a reload, then syncs to the server', async () => {
  await contextA.setOffline(true);
  await pageA.getByLabel('Note', { exact: true }).fill(texts.offline);
  await pageA.getByLabel('Who can see it').selectOption({ label: 'Shared with the family' });
  await pageA.getByRole('button', { name: 'Save note' }).click();
  const note = pageA.locator('li.note', { hasText: texts.offline });
  await note.getByText('Saved on this device only').waitFor();
  await pageA.locator('#sync-state', { hasText: 'Saved on this device only' }).waitFor();
  await screenshot(pageA, 'offline-note-queued');

  await pageA.reload();
  await pageA.getByRole('heading', { level: 1, name: 'Rivera family' }).waitFor();
  await note.getByText('Saved on this device only').waitFor();
  await pageA.locator('#sync-state', { hasText: 'Saved on this device only' }).waitFor();
  await screenshot(pageA, 'offline-after-reload');

  await contextA.setOffline(false);
  await synced(pageA);
  await note.waitFor();
  assert.equal(await note.getByText('Saved on this device only').count(), 0);
  await screenshot(pageA, 'online-synced');
  const notes = await api(stack, worker.token, 'GET', `/families/${family.id}/notes`, undefined, 200);
  const stored = notes.items.find((n) => n.body === texts.offline);
  assert.ok(stored, 'the note is on the server');
  assert.equal(stored.visibility, 'family');
});

test('a conflicting edit from another device is shown side by side and resolved by the choice', async () => {
  await contextA.setOffline(true);
  const note = pageA.locator('li.note', { hasText: texts.offline });
  await note.getByRole('button', { name: 'Edit note' }).click();
  await pageA.getByLabel('Edit the note').fill(texts.mine);
  await pageA.getByRole('button', { name: 'Save changes' }).click();
  await pageA.locator('li.note', { hasText: texts.mine }).getByText('Saved on this device only').waitFor();

  const contextB = watched(await browser.newContext({ viewport: { width: 412, height: 915 } }));
  try {
    const pageB = await contextB.newPage();
    await signIn(pageB, 'Social worker', worker.oid, 'Sam Patel');
    await openFamily(pageB);
    const noteB = pageB.locator('li.note', { hasText: texts.offline });
    await noteB.getByRole('button', { name: 'Edit note' }).click();
    await pageB.getByLabel('Edit the note').fill(texts.theirs);
    await pageB.getByRole('button', { name: 'Save changes' }).click();
    await pageB.locator('li.note', { hasText: texts.theirs }).waitFor();
    await synced(pageB);
    await screenshot(pageB, 'second-device-edit');
  } finally {
    await contextB.close();
  }

  await contextA.setOffline(false);
  const conflict = pageA.locator('section.conflict');
  await conflict.waitFor({ timeout: 20_000 });
  await conflict.locator('td.yours', { hasText: texts.mine }).waitFor();
  await conflict.locator('td.theirs', { hasText: texts.theirs }).waitFor();
  await pageA.locator('#sync-state', { hasText: 'conflict needs your choice' }).waitFor();
  await pageA.locator('li.note', { hasText: texts.theirs }).getByText('Changed elsewhere: needs your choice').waitFor();
  assert.equal(await pageA.getByText('Saved on this device only').count(), 0, 'a conflict is not shown as queued');
  await accessible(pageA, 'conflict');
  await screenshot(pageA, 'conflict-side-by-side');
  await conflict.getByRole('button', { name: 'Keep mine' }).click();
  await synced(pageA);
  await pageA.locator('li.note', { hasText: texts.mine }).waitFor();
  assert.equal(await pageA.locator('section.conflict').count(), 0);
  await screenshot(pageA, 'conflict-resolved');
  const notes = await api(stack, worker.token, 'GET', `/families/${family.id}/notes`, undefined, 200);
  assert.ok(notes.items.some((n) => n.body === texts.mine), 'the chosen version is on the server');
  assert.ok(!notes.items.some((n) => n.body === texts.theirs), 'the other version was replaced');
});

/** Clicks "Sync now" until the locator appears (the app syncs by itself every 30 s). */
async function syncUntil(page, locator, seconds = 45) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      await locator.waitFor({ timeout: 750 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await page.getByRole('button', { name: 'Sync now' }).click();
  }
}

/** Storage requests of the page: Put Block and Put Block List, with their answers. */
function storageRequests(page) {
  const seen = [];
  page.on('response', (response) => {
    const url = new URL(response.url());
    const comp = url.searchParams.get('comp');
    if (response.request().method() === 'PUT' && (comp === 'block' || comp === 'blocklist')) {
      seen.push({ origin: url.origin, comp, status: response.status() });
    }
  });
  return seen;
}

test('a photo taken uploads in blocks to Storage and appears processed, with its thumbnail', async () => {
  const picture = fieldPng();
  const requests = storageRequests(pageA);
  await pageA.getByLabel('Caption (optional)').fill(texts.caption);
  await pageA.getByLabel('Take or choose a photo').setInputFiles({ name: 'field.png', mimeType: 'image/png', buffer: picture });
  await pageA.getByRole('status').filter({ hasText: 'The photo is uploaded' }).waitFor({ timeout: 30_000 });
  // Two blocks of at most 4 MiB, then the list, straight to Storage (another origin: CORS).
  assert.ok(picture.length > 4 * 1024 * 1024);
  assert.deepEqual(requests.map((r) => `${r.comp} ${r.status}`), ['block 201', 'block 201', 'blocklist 201']);
  for (const r of requests) assert.notEqual(r.origin, new URL(stack.web).origin);
  await screenshot(pageA, 'photo-uploaded');

  const item = pageA.locator('li.media', { hasText: texts.caption });
  const thumbnail = item.getByRole('img', { name: texts.caption });
  await syncUntil(pageA, thumbnail);
  await pageA.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumbnail.elementHandle());
  const { width, height } = await thumbnail.evaluate((img) => ({ width: img.naturalWidth, height: img.naturalHeight }));
  assert.ok(width > 0 && width < 2000 && height < 1500, `a thumbnail, not the original (${width}×${height})`);
  await item.scrollIntoViewIfNeeded();
  await accessible(pageA, 'family story with a photo');
  await screenshot(pageA, 'photo-in-story');
  const media = await api(stack, worker.token, 'GET', `/families/${family.id}/media`, undefined, 200);
  const stored = media.items.find((m) => m.caption === texts.caption);
  assert.ok(stored, 'the photo is on the server');
  assert.equal(stored.status, 'ready');
  assert.equal(stored.sizeBytes, picture.length);
  assert.ok(stored.thumbnails.some((t) => t.size === 'small'));
});

test('audio recorded from the microphone uploads and appears in the story', async () => {
  const context = watched(await browser.newContext({ viewport: { width: 412, height: 915 } }));
  try {
    await context.grantPermissions(['microphone'], { origin: new URL(stack.web).origin });
    const page = await context.newPage();
    const requests = storageRequests(page);
    await signIn(page, 'Social worker', worker.oid, 'Sam Patel');
    await openFamily(page);
    const before = await api(stack, worker.token, 'GET', `/families/${family.id}/media`, undefined, 200);
    const record = page.getByRole('button', { name: 'Record audio' });
    assert.equal(await record.isEnabled(), true, 'this browser can record');
    await record.click();
    const stop = page.getByRole('button', { name: 'Stop recording' });
    await stop.waitFor();
    assert.equal(await stop.getAttribute('aria-pressed'), 'true');
    await page.getByRole('status').filter({ hasText: 'Recording…' }).waitFor();
    await screenshot(page, 'audio-recording');
    await page.waitForTimeout(2_000);
    await stop.click();
    await page.getByRole('status').filter({ hasText: 'The audio is uploaded' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(requests.map((r) => `${r.comp} ${r.status}`), ['block 201', 'blocklist 201']);

    const after = await api(stack, worker.token, 'GET', `/families/${family.id}/media`, undefined, 200);
    const known = new Set(before.items.map((m) => m.id));
    const added = after.items.filter((m) => !known.has(m.id));
    assert.equal(added.length, 1, 'one recording on the server');
    const [audio] = added;
    assert.equal(audio.kind, 'audio');
    assert.match(audio.contentType, /^audio\//);
    assert.ok(audio.sizeBytes > 1000, `a recording of a couple of seconds (${audio.sizeBytes} bytes)`);
    // Storage has it; the server takes it up when Storage's event reaches it.
    assert.ok(['awaiting_upload', 'processing', 'ready'].includes(audio.status), audio.status);
    const item = page.locator(`li.media`).filter({ has: page.locator('figcaption', { hasText: /^audio$/ }) });
    await item.waitFor();
    // Once processed, the device plays it from its own (encrypted) copy.
    await syncUntil(page, item.locator('audio'));
    const server = await api(stack, worker.token, 'GET', `/families/${family.id}/media/${audio.id}`, undefined, 200);
    assert.equal(server.status, 'ready');
    const player = item.locator('audio');
    assert.ok(await player.evaluate((a) => a.src.startsWith('blob:')));
    const seconds = await player.evaluate((a) => new Promise((done) => {
      if (a.readyState >= 1) done(a.duration);
      else a.addEventListener('loadedmetadata', () => done(a.duration), { once: true });
    }));
    assert.ok(seconds > 1 && seconds < 10, `a recording of a couple of seconds (${seconds} s)`);
    await item.scrollIntoViewIfNeeded();
    await screenshot(page, 'audio-in-story');
  } finally {
    await context.close();
  }
});

test("a family member's device never receives a professionals-only note", async () => {
  contextC = watched(await browser.newContext({ viewport: { width: 412, height: 915 }, isMobile: true }));
  pageC = await contextC.newPage();
  await signIn(pageC, 'Family member', family.oid, 'Pat Rivera');
  await synced(pageC);
  await openFamily(pageC);
  await pageC.locator('li.note', { hasText: texts.mine }).waitFor();
  await pageC.getByText('School run').waitFor();
  assert.equal(await pageC.getByText(texts.professional).count(), 0);
  const held = await pageC.evaluate(async (familyId) => {
    const records = await window.familyStory.client.records(familyId);
    return JSON.stringify(records);
  }, family.id);
  assert.ok(held.includes(texts.mine));
  assert.ok(!held.includes(texts.professional), "the professionals' note is not on the device");
  await accessible(pageC, 'family member story');
  await screenshot(pageC, 'family-member-story');
});

test('revoking the family sign-in removes the family from that device', async () => {
  const links = await api(stack, worker.token, 'GET', `/families/${family.id}/members/${family.memberId}/links`, undefined, 200);
  assert.equal(links.items.length, 1);
  await api(stack, worker.token, 'DELETE', `/families/${family.id}/members/${family.memberId}/links/${links.items[0].id}`, undefined, 204);
  await pageC.getByRole('button', { name: 'Sync now' }).click();
  await pageC.getByRole('heading', { level: 1, name: /Sign in to FamilyStory|Families/ }).waitFor({ timeout: 20_000 });
  await pageC.getByText('Rivera family').waitFor({ state: 'detached', timeout: 20_000 });
  await pageC.getByRole('alert').filter({ hasText: /no longer (holds|on this device)/ }).waitFor();
  assert.equal(await pageC.getByText(texts.mine).count(), 0);
  const stores = await pageC.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  const remaining = await pageC.evaluate(async (names) => {
    let count = 0;
    for (const name of names) {
      const db = await new Promise((done, fail) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => done(open.result);
        open.onerror = () => fail(open.error);
      });
      for (const store of db.objectStoreNames) {
        count += await new Promise((done) => {
          const request = db.transaction(store).objectStore(store).count();
          request.onsuccess = () => done(request.result);
        });
      }
      db.close();
    }
    return count;
  }, stores);
  assert.equal(remaining, 0, 'nothing of the family is left in IndexedDB');
  await screenshot(pageC, 'family-member-revoked');
});

test('what IndexedDB holds on disk is ciphertext', async () => {
  await pageA.getByRole('heading', { level: 1, name: 'Rivera family' }).waitFor();
  assert.ok(await pageA.evaluate(async () => (await indexedDB.databases()).length > 0), 'the store is on disk');
  await contextA.close();
  contextA = undefined;
  const needles = Object.values(texts).flatMap((t) => [Buffer.from(t, 'utf8'), Buffer.from(t, 'utf16le')]);
  const found = [];
  let files = 0;
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        let content;
        try {
          if (statSync(path).size > 64 * 1024 * 1024) continue;
          content = readFileSync(path);
        } catch (error) {
          if (error.code === 'ENOENT') continue; // removed by the browser as it shut down
          throw error;
        }
        files += 1;
        if (needles.some((needle) => content.includes(needle))) found.push(path.slice(profileA.length));
      }
    }
  };
  walk(profileA);
  assert.ok(files > 0);
  assert.ok(readdirSync(join(profileA, 'Default', 'IndexedDB')).length > 0, 'IndexedDB has files');
  assert.deepEqual(found, [], 'no note text in the browser profile');
});

test('no page broke the Content-Security-Policy the static host serves', () => {
  assert.deepEqual(policyViolations, []);
});
