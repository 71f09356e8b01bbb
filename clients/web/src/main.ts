// FamilyStory's web app: sign in, the families, a family's story, writing offline, conflicts,
// photos and recordings. Everything shown comes from the library's store on this device.
import { FamilyStoryClient, SignInRequired, type LocalRecord, type QueuedOperation } from '@familystory/client';
import { DevAuth, MsalAuth, type Auth, type Kind, type Session } from './auth';
import { loadConfig, type AppConfig } from './config';
import { h } from './dom';
import { renderFamilies, renderFamily, renderSignIn, type View } from './views';
import './styles.css';

const SYNC_INTERVAL_MS = 30_000;

const main = document.getElementById('main') as HTMLElement;
const account = document.getElementById('account') as HTMLElement;
const syncState = document.getElementById('sync-state') as HTMLElement;

/** The library's fetch: nothing it fetches (records, media) may be kept in the browser's HTTP cache. */
const noStoreFetch: typeof fetch = (input, init) => fetch(input, { ...init, cache: 'no-store' });

class App implements View {
  client: FamilyStoryClient | undefined;
  session: Session | undefined;
  syncing = false;
  lastError = '';
  private ending = false;
  private timer: number | undefined;
  private rendered = '';

  constructor(
    readonly config: AppConfig,
    public auth: Auth | undefined,
  ) {}

  async start(): Promise<void> {
    window.addEventListener('hashchange', () => void this.route());
    window.addEventListener('online', () => void this.sync());
    window.addEventListener('offline', () => void this.showSyncState());
    this.session = this.auth?.session();
    if (this.session) await this.openStore();
    await this.route();
    if (this.client) void this.sync();
  }

  async openStore(): Promise<void> {
    if (!this.session || !this.auth) return;
    const auth = this.auth;
    try {
      this.client = await FamilyStoryClient.open({
        baseUrl: this.config.apiBaseUrl,
        userId: this.session.oid,
        getToken: () => auth.getToken(),
        maxOfflineDays: this.config.maxOfflineDays,
        fetch: noStoreFetch,
      });
    } catch (error) {
      if (error instanceof SignInRequired) {
        await this.endSession(error.reason);
        return;
      }
      throw error;
    }
    const client = this.client;
    client.addEventListener('change', () => void this.refresh());
    client.addEventListener('queue', () => void this.showSyncState());
    client.addEventListener('conflict', () => void this.refresh(true));
    client.addEventListener('signed-out', (event) => {
      const reason = (event as CustomEvent<{ reason?: string }>).detail?.reason ?? 'sign-out';
      void this.endSession(reason);
    });
    this.timer = window.setInterval(() => void this.sync(), SYNC_INTERVAL_MS);
    this.renderAccount();
  }

  renderAccount(): void {
    account.replaceChildren();
    if (!this.session) return;
    const who = this.session.kind === 'staff' ? this.session.roles.join(', ') : 'Family member';
    account.append(
      h('span', { class: 'who' }, `${this.session.name} (${who})`),
      h('button', { type: 'button', onclick: () => void this.sync() }, 'Sync now'),
      h('button', { type: 'button', onclick: () => void this.signOut() }, 'Sign out'),
    );
  }

  async sync(): Promise<void> {
    if (!this.client || this.syncing || !navigator.onLine) {
      await this.showSyncState();
      return;
    }
    this.syncing = true;
    this.lastError = '';
    await this.showSyncState();
    try {
      await this.client.sync();
    } catch (error) {
      if (error instanceof SignInRequired) {
        this.syncing = false;
        await this.endSession(error.reason);
        return;
      }
      this.lastError = navigator.onLine ? 'The last sync failed; it will be tried again.' : '';
      console.warn('sync failed', error);
    } finally {
      this.syncing = false;
    }
    await this.showSyncState();
    await this.refresh();
  }

  async showSyncState(): Promise<void> {
    let message: string;
    let state: string;
    if (!this.client) {
      message = '';
      state = 'none';
    } else {
      const queue = await this.client.queue().catch(() => [] as QueuedOperation[]);
      const conflicts = queue.filter((op) => op.status === 'conflict').length;
      const rejected = queue.filter((op) => op.status === 'rejected').length;
      const waiting = queue.length - conflicts - rejected;
      const parts: string[] = [];
      if (waiting > 0) parts.push(`Saved on this device only (${waiting} ${waiting === 1 ? 'change' : 'changes'} waiting to sync)`);
      if (conflicts > 0) parts.push(`${conflicts} ${conflicts === 1 ? 'conflict needs' : 'conflicts need'} your choice`);
      if (rejected > 0) parts.push(`${rejected} ${rejected === 1 ? 'change was' : 'changes were'} refused by the server`);
      if (this.syncing) parts.push('Syncing…');
      else if (!navigator.onLine) parts.push('Offline');
      else if (this.lastError) parts.push(this.lastError);
      if (parts.length === 0) parts.push('Synced');
      message = parts.join(' · ');
      state = conflicts || rejected ? 'attention' : waiting ? 'pending' : this.syncing ? 'busy' : 'synced';
    }
    if (message !== syncState.textContent) syncState.textContent = message;
    syncState.dataset['state'] = state;
  }

  async route(): Promise<void> {
    this.rendered = location.hash;
    if (!this.client || !this.session) {
      this.renderAccount();
      await this.showSyncState();
      renderSignIn(this, main);
      return;
    }
    const family = /^#\/families\/([^/]+)$/.exec(location.hash);
    if (family?.[1]) await renderFamily(this, main, decodeURIComponent(family[1]));
    else await renderFamilies(this, main);
    await this.showSyncState();
  }

  /** Re-draws what shows the store (not the forms being written in). */
  async refresh(conflictArrived = false): Promise<void> {
    await this.showSyncState();
    if (!this.client) return;
    const live = main.querySelector<HTMLElement>('[data-live]');
    if (live && this.rendered === location.hash) {
      live.dispatchEvent(new CustomEvent('refresh', { detail: { conflictArrived } }));
    } else {
      await this.route();
    }
  }

  async signIn(kind: Kind, who: { oid: string; roles: string[]; name?: string }): Promise<void> {
    if (this.config.signIn === 'entra') {
      await MsalAuth.signIn(this.config, kind);
      return;
    }
    const auth = this.auth as DevAuth;
    this.session = await auth.signIn({ kind, ...who });
    sessionStorage.removeItem('familystory.notice');
    await this.openStore();
    location.hash = '#/families';
    await this.route();
    void this.sync();
  }

  async signOut(): Promise<void> {
    await this.client?.signOut();
    await this.endSession('sign-out');
  }

  async endSession(reason: string): Promise<void> {
    if (this.ending) return; // the library's 'signed-out' event and its SignInRequired both end it
    this.ending = true;
    try {
      await this.closeSession(reason);
    } finally {
      this.ending = false;
    }
  }

  private async closeSession(reason: string): Promise<void> {
    window.clearInterval(this.timer);
    this.client?.close();
    this.client = undefined;
    this.session = undefined;
    const messages: Record<string, string> = {
      'sign-out': 'You are signed out. Nothing of yours is kept on this device.',
      revoked: 'Your access ended, so this device no longer holds those records.',
      expired: 'This device was offline for too long, so its records were removed. Sign in again.',
    };
    // Kept before signing out: MSAL's sign-out leaves the page for the identity provider's.
    sessionStorage.setItem('familystory.notice', messages[reason] ?? messages['sign-out']!);
    await this.auth?.signOut();
    if (this.config.signIn === 'entra') this.auth = undefined;
    location.hash = '';
    await this.route();
  }

  records(familyId: string): Promise<LocalRecord[]> {
    return this.client ? this.client.records(familyId) : Promise.resolve([]);
  }
}

async function boot(): Promise<void> {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch((error) => console.warn('service worker', error));
  }
  let config: AppConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    main.replaceChildren(h('h1', {}, 'FamilyStory cannot start'), h('p', {}, String(error)));
    return;
  }
  let auth: Auth | undefined;
  if (config.signIn === 'dev') auth = new DevAuth(config.devTokenUrl ?? '/dev/token');
  else {
    const kind = MsalAuth.chosen();
    if (kind) auth = await MsalAuth.start(config, kind).catch(() => undefined);
  }
  const app = new App(config, auth);
  (window as unknown as { familyStory: App }).familyStory = app;
  await app.start();
}

void boot();
