// A stand-in for Microsoft's identity platform at the network level of a browser context: the
// workforce tenant (login.microsoftonline.com) and an External ID tenant (<subdomain>.ciamlogin.com)
// answering what MSAL.js asks of them, as strictly as the real service does for a single-page app:
// the OpenID Connect metadata, the authorize endpoint (a registered client and redirect URI, the
// authorization code flow with PKCE S256, a state and a nonce), and the token endpoint (a
// cross-origin request from the registered origin, the code once, the PKCE verifier checked).
// Every request it receives is recorded, in order.
import { createHash, createSign, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';

const b64url = (data) => Buffer.from(data).toString('base64url');

/** The scopes MSAL adds to every sign-in: the OpenID Connect ones, never in an access token. */
export const OIDC_SCOPES = ['openid', 'profile', 'offline_access'];

export class IdentityProvider {
  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.kid = randomUUID();
    this.jwk = { ...publicKey.export({ format: 'jwk' }), kid: this.kid, use: 'sig', alg: 'RS256' };
    /** Every request, in order: { method, url, origin }. */
    this.requests = [];
    /** Authorize requests as received: { tenant, params }. */
    this.authorizations = [];
    /** Tokens issued: { tenant, accessToken, idToken, claims }. */
    this.issued = [];
    this.tenants = new Map(); // `${host}/${tenantId}` -> tenant
    this.codes = new Map();
  }

  /**
   * A tenant at `authority` (https://host/<tenant id>) with one app registration (a single-page
   * app: `clientId`, `redirectUri`) and the user who signs in there.
   */
  tenant({ authority, clientId, redirectUri, user, issuer }) {
    const url = new URL(authority);
    const id = url.pathname.split('/')[1];
    const entry = { host: url.host, id, authority: `${url.origin}/${id}`, clientId, redirectUri, user, issuer };
    this.tenants.set(`${url.host}/${id}`, entry);
    return entry;
  }

  metadata(t) {
    const base = t.authority;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: t.issuer,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      tenant_region_scope: 'EU',
    };
  }

  jwt(claims) {
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: this.kid }));
    const payload = b64url(JSON.stringify(claims));
    const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(this.privateKey).toString('base64url');
    return `${header}.${payload}.${signature}`;
  }

  /** Routes both hosts of the platform in `context` to this stand-in. */
  async install(context) {
    const handler = (route) => this.answer(route).catch((error) => route.fulfill(this.error(500, 'server_error', String(error))));
    await context.route('https://login.microsoftonline.com/**', handler);
    await context.route('https://*.ciamlogin.com/**', handler);
  }

  error(status, error, description, headers = {}) {
    return {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body: JSON.stringify({ error, error_description: description, error_codes: [], correlation_id: randomUUID() }),
    };
  }

  async answer(route) {
    const request = route.request();
    const url = new URL(request.url());
    const headers = await request.allHeaders();
    this.requests.push({ method: request.method(), url: request.url(), origin: headers['origin'] });
    const [, tenantId, ...rest] = url.pathname.split('/');
    const path = rest.join('/');
    const t = this.tenants.get(`${url.host}/${tenantId}`);
    const cors = headers['origin'] ? { 'access-control-allow-origin': '*' } : {};
    if (!t) return route.fulfill(this.error(400, 'invalid_tenant', `AADSTS90002: Tenant '${tenantId}' not found.`, cors));

    if (request.method() === 'GET' && path === 'v2.0/.well-known/openid-configuration') {
      return route.fulfill({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8', ...cors }, body: JSON.stringify(this.metadata(t)) });
    }
    if (request.method() === 'GET' && path === 'discovery/v2.0/keys') {
      return route.fulfill({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8', ...cors }, body: JSON.stringify({ keys: [this.jwk] }) });
    }
    if (request.method() === 'GET' && path === 'oauth2/v2.0/authorize') return this.authorize(route, t, url.searchParams);
    if (path === 'oauth2/v2.0/token') return this.token(route, t, headers);
    if (request.method() === 'GET' && path === 'oauth2/v2.0/logout') {
      const back = url.searchParams.get('post_logout_redirect_uri');
      if (back && back === t.redirectUri) return route.fulfill({ status: 302, headers: { location: back } });
      return route.fulfill({ status: 200, headers: { 'content-type': 'text/html' }, body: '<!doctype html><title>Signed out</title><p>You have signed out.</p>' });
    }
    return route.fulfill(this.error(404, 'not_found', `${request.method()} ${url.pathname}`, cors));
  }

  /** The sign-in page: checks the request as Entra ID does, then offers to continue as the user. */
  authorize(route, t, params) {
    this.authorizations.push({ tenant: t, params: Object.fromEntries(params) });
    const page = (status, title, body) =>
      route.fulfill({ status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: `<!doctype html><html lang="en"><title>${title}</title><main><h1>${title}</h1>${body}</main></html>` });
    const refuse = (reason) => page(400, 'Sorry, but we’re having trouble signing you in', `<p id="reason">${reason}</p>`);
    if (params.get('client_id') !== t.clientId) return refuse(`AADSTS700016: Application with identifier '${params.get('client_id')}' was not found.`);
    if (params.get('redirect_uri') !== t.redirectUri) return refuse('AADSTS50011: The redirect URI does not match the redirect URIs configured for the application.');
    if (params.get('response_type') !== 'code') return refuse('AADSTS900144: response_type must be code for a single-page app.');
    if (params.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(params.get('code_challenge') ?? '')) {
      return refuse('AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption.');
    }
    const scopes = (params.get('scope') ?? '').split(' ');
    if (!scopes.includes('openid')) return refuse('AADSTS900144: scope must include openid.');
    const mode = params.get('response_mode') ?? 'query';
    if (mode !== 'query' && mode !== 'fragment') return refuse(`AADSTS900144: response_mode ${mode} is not for this app.`);
    if (!params.get('state') || !params.get('nonce')) return refuse('AADSTS900144: state and nonce are required.');
    const code = b64url(randomBytes(32));
    this.codes.set(code, {
      tenant: t,
      clientId: t.clientId,
      redirectUri: t.redirectUri,
      challenge: params.get('code_challenge'),
      nonce: params.get('nonce'),
      scopes,
    });
    const answer = new URLSearchParams({
      code,
      client_info: b64url(JSON.stringify({ uid: t.user.oid, utid: t.id })),
      state: params.get('state'),
      session_state: randomUUID(),
    });
    const back = `${t.redirectUri}${mode === 'fragment' ? '#' : '?'}${answer}`;
    const who = t.user.name.replace(/[<>&"]/g, '');
    return page(200, 'Sign in', `<p>Signing in to the app <code>${t.clientId}</code>.</p><p><a id="continue" href="${back.replace(/&/g, '&amp;')}">Continue as ${who}</a></p>`);
  }

  /** The token endpoint: a single-page app redeems its code cross-origin, with the PKCE verifier. */
  async token(route, t, headers) {
    const request = route.request();
    const origin = headers['origin'];
    const allowed = origin && origin === new URL(t.redirectUri).origin;
    const cors = allowed ? { 'access-control-allow-origin': origin } : {};
    if (request.method() === 'OPTIONS') {
      return route.fulfill({
        status: allowed ? 204 : 403,
        headers: { ...cors, 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': headers['access-control-request-headers'] ?? '', 'access-control-max-age': '600' },
      });
    }
    if (request.method() !== 'POST') return route.fulfill(this.error(405, 'invalid_request', 'POST only.', cors));
    if (!allowed) {
      return route.fulfill(this.error(400, 'invalid_request', 'AADSTS9002327: Tokens issued for the Single-Page Application client-type may only be redeemed via cross-origin requests.', cors));
    }
    if (!(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return route.fulfill(this.error(400, 'invalid_request', 'The body must be form-encoded.', cors));
    }
    const form = new URLSearchParams(request.postData() ?? '');
    if (form.get('grant_type') !== 'authorization_code') return route.fulfill(this.error(400, 'unsupported_grant_type', `${form.get('grant_type')}`, cors));
    const code = form.get('code') ?? '';
    const granted = this.codes.get(code);
    this.codes.delete(code);
    if (!granted || granted.tenant !== t) return route.fulfill(this.error(400, 'invalid_grant', 'AADSTS70008: The provided authorization code is invalid or has expired.', cors));
    if (form.get('client_id') !== granted.clientId) return route.fulfill(this.error(400, 'invalid_client', 'AADSTS700016: client_id differs.', cors));
    if (form.get('redirect_uri') !== granted.redirectUri) return route.fulfill(this.error(400, 'invalid_grant', 'AADSTS50148: redirect_uri differs from the authorize request.', cors));
    const verifier = form.get('code_verifier') ?? '';
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || b64url(createHash('sha256').update(verifier).digest()) !== granted.challenge) {
      return route.fulfill(this.error(400, 'invalid_grant', 'AADSTS50148: The code_verifier does not match the code_challenge.', cors));
    }
    const now = Math.floor(Date.now() / 1000);
    const user = t.user;
    const apiScopes = granted.scopes.filter((s) => !OIDC_SCOPES.includes(s));
    const audience = apiScopes[0]?.replace(/\/[^/]+$/, '') ?? '00000003-0000-0000-c000-000000000000';
    // App roles are the API registration's (docs/deploy.md assigns people to them there): they
    // are in the access token, whose audience is the API, and not in the id token, whose
    // audience is the web app's registration.
    const accessClaims = {
      aud: audience, iss: t.issuer, iat: now, nbf: now, exp: now + 3600, oid: user.oid, sub: user.oid, tid: t.id,
      azp: t.clientId, scp: apiScopes.map((s) => s.split('/').pop()).join(' '), name: user.name, ver: '2.0',
      ...(user.roles?.length ? { roles: user.roles } : {}),
    };
    const idClaims = {
      aud: t.clientId, iss: t.issuer, iat: now, nbf: now, exp: now + 3600, nonce: granted.nonce, oid: user.oid,
      sub: b64url(randomBytes(24)), tid: t.id, name: user.name, preferred_username: user.username, ver: '2.0',
    };
    const issued = { tenant: t, accessToken: this.jwt(accessClaims), idToken: this.jwt(idClaims), claims: idClaims };
    this.issued.push(issued);
    return route.fulfill({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...cors },
      body: JSON.stringify({
        token_type: 'Bearer',
        scope: apiScopes.join(' '),
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: issued.accessToken,
        refresh_token: b64url(randomBytes(48)),
        id_token: issued.idToken,
        client_info: b64url(JSON.stringify({ uid: user.oid, utid: t.id })),
      }),
    });
  }
}
