// Sign-in: local development tokens (POST /dev/token) locally, MSAL in Azure (staff through the
// borough's workforce tenant, families through External ID), as /config.json says.
import type { AppConfig, AuthorityConfig } from './config';

export type Kind = 'staff' | 'family';

export interface Session {
  kind: Kind;
  /** The user's object id: the library keeps one store per user. */
  oid: string;
  name: string;
  roles: string[];
}

export interface Auth {
  /** The session this device is signed in with, if any (works offline). */
  session(): Session | undefined;
  /** A bearer token for the API (may need the network). */
  getToken(): Promise<string>;
  signOut(): Promise<void>;
}

const SESSION_KEY = 'familystory.session';
const TOKEN_KEY = 'familystory.devToken';
const AUTHORITY_KEY = 'familystory.authority';
const ROLES_KEY = 'familystory.roles';

/**
 * The app roles an access token for the API carries. They are the API registration's (people are
 * assigned to them there: docs/deploy.md), so the id token, whose audience is the web app's own
 * registration, has none; the API's access token (a v2 JWT) has them. For display only: the API
 * decides from the token itself.
 */
function rolesIn(accessToken: string): string[] {
  try {
    const payload = JSON.parse(atob((accessToken.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}

export interface DevSignIn {
  kind: Kind;
  oid: string;
  roles: string[];
  name?: string;
}

/** The local development issuer: a token minted by the local web server for a chosen identity. */
export class DevAuth implements Auth {
  constructor(private readonly tokenUrl: string) {}

  session(): Session | undefined {
    const stored = localStorage.getItem(SESSION_KEY);
    return stored ? (JSON.parse(stored) as Session) : undefined;
  }

  async signIn(who: DevSignIn): Promise<Session> {
    const { token, expiresIn } = await this.mint(who);
    const session: Session = {
      kind: who.kind,
      oid: who.oid,
      roles: who.roles,
      name: who.name || (who.kind === 'staff' ? who.roles.join(', ') : 'Family member'),
    };
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    this.keep(token, expiresIn);
    return session;
  }

  async getToken(): Promise<string> {
    const stored = sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
    if (stored) {
      const { token, expires } = JSON.parse(stored) as { token: string; expires: number };
      if (expires - Date.now() > 60_000) return token;
    }
    const session = this.session();
    if (!session) throw new Error('Not signed in.');
    const { token, expiresIn } = await this.mint({ kind: session.kind, oid: session.oid, roles: session.roles, name: session.name });
    this.keep(token, expiresIn);
    return token;
  }

  async signOut(): Promise<void> {
    localStorage.removeItem(SESSION_KEY);
    localStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
  }

  private keep(token: string, expiresIn: number): void {
    localStorage.setItem(TOKEN_KEY, JSON.stringify({ token, expires: Date.now() + expiresIn * 1000 }));
  }

  private async mint(who: DevSignIn): Promise<{ token: string; expiresIn: number }> {
    const body: Record<string, unknown> = { kind: who.kind, oid: who.oid, name: who.name || undefined };
    if (who.kind === 'staff') body['roles'] = who.roles;
    const response = await fetch(this.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { detail?: string };
      throw new Error(problem.detail ?? `The local sign-in answered ${response.status}.`);
    }
    return (await response.json()) as { token: string; expiresIn: number };
  }
}

/** Entra ID (staff) or External ID (families) through MSAL, whichever the user chose. */
export class MsalAuth implements Auth {
  private constructor(
    private readonly kind: Kind,
    private readonly authority: AuthorityConfig,
    private readonly msal: import('@azure/msal-browser').IPublicClientApplication,
  ) {}

  static chosen(): Kind | undefined {
    const value = localStorage.getItem(AUTHORITY_KEY);
    return value === 'staff' || value === 'family' ? value : undefined;
  }

  static async start(config: AppConfig, kind: Kind): Promise<MsalAuth> {
    const authority = kind === 'staff' ? config.staff : config.family;
    if (!authority) throw new Error(`config.json has no ${kind} sign-in.`);
    const { createStandardPublicClientApplication } = await import('@azure/msal-browser');
    const msal = await createStandardPublicClientApplication({
      auth: {
        clientId: authority.clientId,
        authority: authority.authority,
        redirectUri: `${location.origin}/`,
        ...(kind === 'family' ? { knownAuthorities: [new URL(authority.authority).host] } : {}),
      },
      cache: { cacheLocation: 'localStorage' },
    });
    const result = await msal.handleRedirectPromise();
    const account = result?.account ?? msal.getAllAccounts()[0];
    if (account) msal.setActiveAccount(account);
    const auth = new MsalAuth(kind, authority, msal);
    if (result?.account && result.accessToken) auth.keepRoles(result.account.homeAccountId, result.accessToken);
    return auth;
  }

  static async signIn(config: AppConfig, kind: Kind): Promise<void> {
    localStorage.setItem(AUTHORITY_KEY, kind);
    const auth = await MsalAuth.start(config, kind);
    await auth.msal.loginRedirect({ scopes: auth.authority.scopes });
  }

  session(): Session | undefined {
    const account = this.msal.getActiveAccount();
    if (!account) return undefined;
    const inIdToken = account.idTokenClaims?.['roles'];
    let roles = Array.isArray(inIdToken) ? (inIdToken as string[]) : [];
    if (roles.length === 0) {
      const kept = JSON.parse(localStorage.getItem(ROLES_KEY) ?? 'null') as { account: string; roles: string[] } | null;
      if (kept?.account === account.homeAccountId) roles = kept.roles;
    }
    return { kind: this.kind, oid: account.localAccountId, name: account.name ?? account.username, roles };
  }

  private keepRoles(account: string, accessToken: string): void {
    localStorage.setItem(ROLES_KEY, JSON.stringify({ account, roles: rolesIn(accessToken) }));
  }

  async getToken(): Promise<string> {
    const account = this.msal.getActiveAccount();
    if (!account) throw new Error('Not signed in.');
    try {
      const result = await this.msal.acquireTokenSilent({ scopes: this.authority.scopes, account });
      this.keepRoles(account.homeAccountId, result.accessToken);
      return result.accessToken;
    } catch (error) {
      const { InteractionRequiredAuthError } = await import('@azure/msal-browser');
      if (error instanceof InteractionRequiredAuthError) {
        await this.msal.acquireTokenRedirect({ scopes: this.authority.scopes, account });
      }
      throw error;
    }
  }

  async signOut(): Promise<void> {
    const account = this.msal.getActiveAccount();
    localStorage.removeItem(AUTHORITY_KEY);
    localStorage.removeItem(ROLES_KEY);
    if (account && navigator.onLine) await this.msal.logoutRedirect({ account, postLogoutRedirectUri: `${location.origin}/` });
    else await this.msal.clearCache();
  }
}
