// The Azure sign-in (MSAL.js) in Chromium: a copy of the build configured by the deployment's own
// hook (infra/hooks/web-config.sh) and served by the local static host with the policy the hook
// narrowed; Microsoft's identity platform stood in for at the network level (./identity.mjs).
// For a social worker (the workforce tenant) and a family member (External ID): the sign-in button
// leads to the right authorize endpoint with the right request, the code comes back, MSAL redeems
// it, the app shows who signed in and calls the API (the borough's address, answered by the local
// API) with the access token issued. Screenshots go to clients/web/test-results/signin/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTEFACTS, REPO, WEB_ROOT, launch, policyViolations, screenshots, startStack, watched } from './stack.mjs';
import { IdentityProvider, OIDC_SCOPES } from './identity.mjs';

const STAFF_TENANT = randomUUID();
const STAFF_API = randomUUID();
const STAFF_WEB = randomUUID();
const FAMILY_TENANT = randomUUID();
const FAMILY_APP = randomUUID();
const SUBDOMAIN = 'boroughfamilies';
const API_BASE_URL = 'https://func-familystory-t1.azurewebsites.net/api/v1';

let folder;
let stack;
let browser;
let config;
let screenshot;

before(async () => {
  // The build, configured as the deployment configures it: the hook writes config.json into a
  // copy and narrows the copy's Content-Security-Policy to these origins.
  folder = mkdtempSync(join(tmpdir(), 'familystory-signin-'));
  const dist = join(folder, 'dist');
  cpSync(join(WEB_ROOT, 'dist'), dist, { recursive: true });
  execFileSync('sh', [join(REPO, 'infra', 'hooks', 'web-config.sh')], {
    env: {
      PATH: '/usr/bin:/bin',
      HOME: folder,
      FAMILYSTORY_WEB_DIST: dist,
      API_BASE_URL,
      MEDIA_BLOB_URL: 'https://stmediat1.blob.core.windows.net/',
      FAMILYSTORY_STAFF_TENANT_ID: STAFF_TENANT,
      FAMILYSTORY_STAFF_API_CLIENT_ID: STAFF_API,
      FAMILYSTORY_STAFF_WEB_CLIENT_ID: STAFF_WEB,
      FAMILYSTORY_FAMILY_TENANT_ID: FAMILY_TENANT,
      FAMILYSTORY_FAMILY_APP_CLIENT_ID: FAMILY_APP,
      FAMILYSTORY_FAMILY_TENANT_SUBDOMAIN: SUBDOMAIN,
    },
    stdio: 'pipe',
  });
  config = JSON.parse(readFileSync(join(dist, 'config.json'), 'utf8'));
  stack = await startStack({ webDist: dist });
  screenshot = screenshots(join(ARTEFACTS, 'signin'));
  browser = await launch();
});

after(async () => {
  await browser?.close().catch(() => {});
  await stack?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
  if (stack) rmSync(stack.state, { recursive: true, force: true });
});

/**
 * A browser context in which the platform is the stand-in and the borough's API address reaches
 * the local API (which refuses the stand-in's tokens: only the request is of interest).
 */
async function device(idp) {
  const context = watched(await browser.newContext({ viewport: { width: 412, height: 915 } }));
  await idp.install(context);
  const apiCalls = [];
  await context.route(`${new URL(API_BASE_URL).origin}/**`, async (route) => {
    const request = route.request();
    const headers = await request.allHeaders();
    const call = { method: request.method(), url: request.url(), authorization: headers['authorization'] };
    apiCalls.push(call);
    const response = await route.fetch({ url: request.url().replace(API_BASE_URL, stack.apiDirect) });
    call.status = response.status();
    await route.fulfill({ response });
  });
  const page = await context.newPage();
  const log = [];
  page.on('console', (message) => log.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => log.push(`pageerror: ${error.message}`));
  return { context, page, apiCalls, log };
}

/** The app's first sync has ended (against the local API, which refuses the stand-in's tokens). */
async function settled(page) {
  await page.waitForFunction(() => {
    const state = document.getElementById('sync-state');
    return state && state.dataset.state !== 'busy' && state.textContent !== '' && !state.textContent.includes('Syncing');
  }, null, { timeout: 15_000 });
}

async function signInThrough({ kind, button, authority, user, issuer, clientId, scopes, shown, discovery }) {
  const idp = new IdentityProvider();
  const origin = new URL(stack.web).origin;
  idp.tenant({ authority, clientId, redirectUri: `${origin}/`, user, issuer });
  const { context, page, apiCalls, log } = await device(idp);
  try {
    const served = await page.goto(stack.web);
    const policy = served.headers()['content-security-policy'];
    assert.match(policy, /connect-src [^;]*https:\/\/login\.microsoftonline\.com/, 'the served policy is the deployed one');
    assert.ok(policy.includes(`https://${SUBDOMAIN}.ciamlogin.com`) && !policy.includes('*.ciamlogin.com'), 'narrowed by the hook');
    assert.deepEqual(await page.evaluate(async () => (await fetch('/config.json')).json()), config, "the app reads the hook's config.json");
    await page.getByRole('heading', { name: 'Sign in to FamilyStory' }).waitFor();
    await screenshot(page, `${kind}-sign-in`);

    await page.getByRole('button', { name: button }).click();
    await page.waitForURL((url) => url.href.startsWith(`${authority}/oauth2/v2.0/authorize`), { timeout: 15_000 }).catch((error) => {
      throw new Error(`${error.message}\nthe page said:\n${log.join('\n')}`);
    });
    // Before leaving, MSAL fetched only what it does not carry itself (`discovery`).
    const before = idp.requests.filter((r) => !r.url.includes('/oauth2/v2.0/authorize')).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(before, discovery);
    assert.equal(idp.authorizations.length, 1);
    const { params } = idp.authorizations[0];
    assert.equal(params.client_id, clientId);
    assert.equal(params.redirect_uri, `${origin}/`);
    assert.equal(params.response_type, 'code');
    assert.deepEqual(params.scope.split(' ').sort(), [...scopes, ...OIDC_SCOPES].sort());
    assert.equal(params.code_challenge_method, 'S256');
    assert.match(params.code_challenge, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(params.state && params.nonce, 'a state and a nonce');
    assert.ok(['fragment', 'query'].includes(params.response_mode), params.response_mode);
    await page.getByRole('link', { name: `Continue as ${user.name}` }).waitFor();
    await screenshot(page, `${kind}-identity-provider`);

    await page.getByRole('link', { name: `Continue as ${user.name}` }).click();
    const who = page.locator('#account .who');
    await who.waitFor({ timeout: 15_000 }).catch((error) => {
      throw new Error(`${error.message}\nthe page said:\n${log.join('\n')}`);
    });
    assert.equal(await who.textContent(), shown);
    await page.getByRole('heading', { name: 'Families' }).waitFor();
    assert.ok(!page.url().includes('code='), 'the code is no longer in the address');
    // MSAL redeemed the code once, with the verifier of the challenge it sent.
    const redeemed = idp.requests.filter((r) => new URL(r.url).pathname.endsWith('/oauth2/v2.0/token'));
    assert.deepEqual(redeemed.map((r) => `${r.method} ${r.url.split('?')[0]} ${r.origin}`), [`POST ${authority}/oauth2/v2.0/token ${origin}`]);
    assert.equal(idp.issued.length, 1);
    assert.equal(idp.codes.size, 0, 'the code was used');
    // The id token's signature is never checked in the browser: the keys were never fetched.
    assert.ok(!idp.requests.some((r) => r.url.includes('/discovery/v2.0/keys')), 'no JWKS fetched');
    const [issued] = idp.issued;
    assert.equal(issued.claims.nonce, params.nonce);

    // The first API call carries the access token the platform issued.
    await settled(page);
    assert.ok(apiCalls.length > 0, 'the app called the API');
    assert.equal(apiCalls[0].authorization, `Bearer ${issued.accessToken}`);
    assert.equal(apiCalls[0].status, 401, 'the real API refuses a token no real tenant issued');
    assert.ok(apiCalls.every((c) => c.url.startsWith(API_BASE_URL) && c.authorization === `Bearer ${issued.accessToken}`));
    await screenshot(page, `${kind}-signed-in`);

    // A reload keeps the session: MSAL's cache has the account and the token; nothing is asked
    // of the platform but (External ID) its metadata again.
    const asked = idp.requests.length;
    const called = apiCalls.length;
    await page.reload();
    await who.waitFor();
    assert.equal(await who.textContent(), shown);
    await settled(page);
    const again = idp.requests.slice(asked).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(again, discovery);
    assert.ok(apiCalls.length > called, 'the app called the API again');
    assert.ok(apiCalls.slice(called).every((c) => c.authorization === `Bearer ${issued.accessToken}`));

    // Signing out goes through the platform's sign-out and back; MSAL's cache is emptied.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to FamilyStory' }).waitFor({ timeout: 15_000 });
    const out = idp.requests.filter((r) => new URL(r.url).pathname.endsWith('/oauth2/v2.0/logout'));
    assert.equal(out.length, 1, 'the sign-out endpoint was visited');
    const logout = new URL(out[0].url);
    assert.equal(logout.origin + logout.pathname, `${authority}/oauth2/v2.0/logout`);
    assert.equal(logout.searchParams.get('post_logout_redirect_uri'), `${origin}/`);
    await page.getByText('You are signed out').waitFor();
    const left = await page.evaluate(() => Object.keys(localStorage).filter((k) => !k.startsWith('familystory.lastOid')));
    assert.ok(!left.some((k) => k.includes(issued.claims.oid) || k.startsWith('familystory.')), `nothing of the user is kept: ${left}`);
    await screenshot(page, `${kind}-signed-out`);
  } finally {
    await context.unrouteAll({ behavior: 'ignoreErrors' });
    await context.close();
  }
}

test('a social worker signs in through the workforce tenant and the API gets their access token', async () => {
  const authority = `https://login.microsoftonline.com/${STAFF_TENANT}`;
  assert.equal(config.staff.authority, authority);
  await signInThrough({
    kind: 'staff',
    button: 'Sign in as council staff',
    authority,
    // MSAL 5 carries the workforce cloud's endpoints itself ({tenantid} filled in): no request.
    discovery: [],
    issuer: `https://login.microsoftonline.com/${STAFF_TENANT}/v2.0`,
    clientId: STAFF_WEB,
    scopes: [`api://${STAFF_API}/access_as_user`],
    user: { oid: randomUUID(), name: 'Sam Patel', username: 'sam.patel@borough.example', roles: ['SocialWorker'] },
    shown: 'Sam Patel (SocialWorker)',
  });
});

test('a family member signs in through External ID and the API gets their access token', async () => {
  const authority = `https://${SUBDOMAIN}.ciamlogin.com/${FAMILY_TENANT}`;
  assert.equal(config.family.authority, authority);
  assert.equal(config.family.clientId, FAMILY_APP, "the family app's registration by default");
  await signInThrough({
    kind: 'family',
    button: 'Sign in as a family member',
    authority,
    // An External ID tenant's it reads from the tenant (the host is in knownAuthorities).
    discovery: [`GET ${authority}/v2.0/.well-known/openid-configuration`],
    // External ID names the tenant by id in its issuer, whatever subdomain signed the user in.
    issuer: `https://${FAMILY_TENANT}.ciamlogin.com/${FAMILY_TENANT}/v2.0`,
    clientId: FAMILY_APP,
    scopes: [`api://${FAMILY_APP}/access_as_user`],
    user: { oid: randomUUID(), name: 'Pat Rivera', username: 'pat.rivera@example.com' },
    shown: 'Pat Rivera (Family member)',
  });
});

test('no page broke the Content-Security-Policy the deployment serves', () => {
  assert.deepEqual(policyViolations, []);
});
