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
    return new MsalAuth(kind, authority, msal);
  }

  static async signIn(config: AppConfig, kind: Kind): Promise<void> {
    localStorage.setItem(AUTHORITY_KEY, kind);
    const auth = await MsalAuth.start(config, kind);
    await auth.msal.loginRedirect({ scopes: auth.authority.scopes });
  }

  session(): Session | undefined {
    const account = this.msal.getActiveAccount();
    if (!account) return undefined;
    const roles = (account.idTokenClaims?.['roles'] as string[] | undefined) ?? [];
    return { kind: this.kind, oid: account.localAccountId, name: account.name ?? account.username, roles };
  }

  async getToken(): Promise<string> {
    const account = this.msal.getActiveAccount();
    if (!account) throw new Error('Not signed in.');
    try {
      const result = await this.msal.acquireTokenSilent({ scopes: this.authority.scopes, account });
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
    if (account && navigator.onLine) await this.msal.logoutRedirect({ account, postLogoutRedirectUri: `${location.origin}/` });
    else await this.msal.clearCache();
  }
}
