import type {
  ClientOptions,
  FieldConflict,
  LocalRecord,
  MediaMeta,
  MediaVariant,
  Problem,
  QueuedOperation,
  Resolution,
  SignOutReason,
  SyncReport,
  UploadOptions,
} from './index.js';
import { ApiError, SignInRequired } from './errors.js';
import { Api, isNetworkError } from './api.js';
import { Vault, databaseName, destroyDatabase, openStore, type Db, type Sealed } from './vault.js';

const DAY_MS = 86_400_000;
const PUSH_BATCH = 100;
const PULL_LIMIT = 500;
const DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024;

/** What the store keeps of a record: the server's copy and whether it is confirmed. */
interface StoredRecord {
  type: string;
  id: string;
  familyId: string;
  /** The server's version and data, or null for a record created on this device only. */
  server: { version: string; data: Record<string, unknown>; confirmed: boolean } | null;
  /** What only this device knows yet: a media item whose file is still being uploaded. */
  local?: Record<string, unknown>;
}

interface StoredOperation extends QueuedOperation {
  /** The record the operation changes on the device (`type|id`), or null (a safety alert). */
  target: string | null;
}

interface State {
  pullToken: string | null;
  lastSyncAt: number;
  hadFamilies: boolean;
}

interface UploadState {
  mediaId: string;
  familyId: string;
  meta: MediaMeta;
  size: number;
  blockSize: number;
  blocks: number;
  acknowledged: number[];
  url: string | null;
  record: Record<string, unknown> | null;
}

interface SyncChange {
  type: string;
  id: string;
  familyId: string;
  version: string;
  deleted: boolean;
  data: Record<string, unknown> | null;
}

interface PushResult {
  opId: string;
  status: 'applied' | 'conflict' | 'rejected';
  id?: string;
  version?: string;
  current?: Record<string, unknown> | null;
  conflicts?: FieldConflict[];
  problem?: Problem;
}

/** Operations that change another record than their own id. */
const TARGET_OF: Record<string, (op: QueuedOperation) => string | null> = {
  agendaItem: (op) => `agenda|${String(op.data?.['agendaId'] ?? '')}`,
  visitSignOff: (op) => `visit|${op.id}`,
  safetyAlert: () => null,
};

const key = (type: string, id: string): string => `${type}|${id}`;
const familyKey = (id: string): string => key('family', id);

function uuid(): string {
  return crypto.randomUUID();
}

function blockId(index: number): string {
  return btoa(String(index).padStart(6, '0'));
}

function isTransient(problem: Problem | undefined): boolean {
  if (!problem) return false;
  if (problem.status >= 500 || problem.status === 429) return true;
  // A replay of an operation whose first push is still being stored: try again later.
  return problem.status === 409 && /being applied/i.test(problem.detail ?? '');
}

export class FamilyStoryClient extends EventTarget {
  private readonly options: Required<Pick<ClientOptions, 'maxOfflineDays'>> & ClientOptions;
  private readonly factory: IDBFactory;
  private readonly now: () => number;
  private readonly api: Api;
  private db: Db | null;
  private vault: Vault | null;
  private state: State;
  private lock: Promise<unknown> = Promise.resolve();
  private syncing: Promise<SyncReport> | null = null;

  private constructor(
    options: ClientOptions,
    factory: IDBFactory,
    private readonly name: string,
    db: Db,
    vault: Vault,
    state: State,
  ) {
    super();
    this.options = { maxOfflineDays: 14, ...options };
    this.factory = factory;
    this.now = options.now ?? Date.now;
    this.db = db;
    this.vault = vault;
    this.state = state;
    this.api = new Api(options.baseUrl, options.getToken, options.fetch ?? globalThis.fetch.bind(globalThis));
  }

  /** Opens the user's encrypted store, creating it (and its key) when there is none. */
  static async open(options: ClientOptions): Promise<FamilyStoryClient> {
    const factory = options.indexedDB ?? globalThis.indexedDB;
    const now = options.now ?? Date.now;
    const name = await databaseName(options.userId);
    const db = await openStore(factory, name);
    const held = await db.get('meta', 'vault');
    let vault: Vault;
    let state: State;
    if (held?.key) {
      vault = new Vault(held.key);
      const stored = await db.get('meta', 'state');
      state = stored?.box
        ? await vault.open<State>(stored.box, 'meta|state')
        : { pullToken: null, lastSyncAt: now(), hadFamilies: false };
    } else {
      const made = await Vault.create();
      vault = made.vault;
      state = { pullToken: null, lastSyncAt: now(), hadFamilies: false };
      const box = await vault.seal(state, 'meta|state');
      const tx = db.transaction('meta', 'readwrite');
      await Promise.all([
        tx.store.put({ name: 'vault', key: made.key }),
        tx.store.put({ name: 'state', box }),
        tx.done,
      ]);
    }
    const client = new FamilyStoryClient(options, factory, name, db, vault, state);
    await client.ensureSignedIn();
    return client;
  }

  // ---- reading the device's copy ----

  async families(): Promise<LocalRecord[]> {
    await this.ensureSignedIn();
    const all = await this.allRecords();
    return all.filter((r) => r.type === 'family').sort(byName);
  }

  async records(familyId: string, type?: string): Promise<LocalRecord[]> {
    await this.ensureSignedIn();
    const db = this.store();
    const rows = await db.getAllFromIndex('records', 'familyId', familyId);
    const ops = await this.operations();
    const out: LocalRecord[] = [];
    for (const row of rows) {
      if (type && !row.key.startsWith(`${type}|`)) continue;
      const view = this.view(await this.vaultOf().open<StoredRecord>(row.box, `records|${row.key}`), ops);
      if (view) out.push(view);
    }
    return out.sort(newestFirst);
  }

  async record(type: string, id: string): Promise<LocalRecord | undefined> {
    await this.ensureSignedIn();
    const stored = await this.readRecord(key(type, id));
    return stored ? this.view(stored, await this.operations()) : undefined;
  }

  async queue(): Promise<QueuedOperation[]> {
    await this.ensureSignedIn();
    return (await this.operations()).map(publicOperation);
  }

  async conflicts(): Promise<QueuedOperation[]> {
    return (await this.queue()).filter((op) => op.status === 'conflict');
  }

  // ---- local writes: applied on the device at once, queued for the server ----

  async create(
    type: string,
    familyId: string,
    data: Record<string, unknown>,
    id?: string,
  ): Promise<QueuedOperation> {
    return this.exclusive(async () => {
      await this.ensureSignedIn();
      const recordId = id ?? uuid();
      const op = this.newOperation({ type, action: 'create', id: recordId, familyId, data: { ...data }, target: null });
      op.target = type in TARGET_OF ? TARGET_OF[type]!(op) : key(type, recordId);
      if (op.target && !(type in TARGET_OF)) {
        const existing = await this.readRecord(op.target);
        if (!existing) {
          await this.writeRecord({ type, id: recordId, familyId, server: null });
        }
      }
      await this.enqueue(op);
      return this.written(op);
    });
  }

  async update(type: string, id: string, patch: Record<string, unknown>): Promise<QueuedOperation> {
    return this.exclusive(async () => {
      await this.ensureSignedIn();
      const { target, stored, mine } = await this.held(type, id);
      const last = mine[mine.length - 1];
      // A change to a write not yet sent joins it: one operation per record while offline.
      if (last && last.op.status === 'queued' && last.op.action !== 'delete' && last.op.type === type) {
        last.op.data = { ...(last.op.data ?? {}), ...patch };
        last.op.queuedAt = new Date(this.now()).toISOString();
        await this.putOperation(last.seq, last.op);
        return this.written(last.op);
      }
      const op = this.newOperation({ type, action: 'update', id, familyId: stored.familyId, data: { ...patch }, target });
      const base = mine.length ? undefined : stored.server?.version;
      if (base !== undefined) op.baseVersion = base;
      await this.enqueue(op);
      return this.written(op);
    });
  }

  async remove(type: string, id: string): Promise<QueuedOperation> {
    return this.exclusive(async () => {
      await this.ensureSignedIn();
      const { target, stored, mine } = await this.held(type, id);
      const queuedOnly = mine.every((o) => o.op.status === 'queued');
      if (stored.server === null && queuedOnly) {
        // Never reached the server: forget it here.
        for (const o of mine) await this.store().delete('queue', o.seq);
        await this.store().delete('records', target);
        return this.written(this.newOperation({ type, action: 'delete', id, familyId: stored.familyId, target }));
      }
      if (queuedOnly) {
        for (const o of mine) await this.store().delete('queue', o.seq);
      }
      const op = this.newOperation({ type, action: 'delete', id, familyId: stored.familyId, target });
      const base = queuedOnly || !mine.length ? stored.server?.version : undefined;
      if (base !== undefined) op.baseVersion = base;
      await this.enqueue(op);
      return this.written(op);
    });
  }

  /** A record on this device, with the queued operations on it (in order); throws if none. */
  private async held(type: string, id: string) {
    const target = key(type, id);
    const stored = await this.readRecord(target);
    if (!stored) throw new Error(`No ${type} ${id} on this device.`);
    const mine = (await this.operationsWithSeq()).filter((o) => o.op.target === target);
    return { target, stored, mine };
  }

  /** A new operation, queued now under a fresh opId. */
  private newOperation(
    fields: Pick<StoredOperation, 'type' | 'action' | 'id' | 'familyId' | 'target'> & { data?: Record<string, unknown> },
  ): StoredOperation {
    return { opId: uuid(), status: 'queued', queuedAt: new Date(this.now()).toISOString(), ...fields };
  }

  /** Tells the app a local write changed the queue and the records, and answers the operation. */
  private written(op: StoredOperation): QueuedOperation {
    this.emit('queue');
    this.emit('change');
    return publicOperation(op);
  }

  /** Settles a conflict as the app chose; nothing else ever does. */
  async resolve(opId: string, resolution: Resolution): Promise<void> {
    return this.exclusive(async () => {
      await this.ensureSignedIn();
      const found = (await this.operationsWithSeq()).find((o) => o.op.opId === opId);
      if (!found) throw new Error(`No operation ${opId} on this device.`);
      const { seq, op } = found;
      if (op.status !== 'conflict' && op.status !== 'rejected') {
        throw new Error(`Operation ${opId} is ${op.status}, not a conflict.`);
      }
      const current = op.current ?? null;
      const theirsVersion = current ? String(current['version'] ?? '') : '';
      if (current && op.target) await this.takeServerCopy(op.target, op.familyId, current, true);
      if (resolution.keep === 'theirs' || !current) {
        await this.store().delete('queue', seq);
        if (!current && op.target && op.action === 'create') {
          const stored = await this.readRecord(op.target);
          if (stored && stored.server === null) await this.store().delete('records', op.target);
        }
      } else {
        let data = { ...(op.data ?? {}) };
        if (resolution.keep === 'fields') {
          for (const [field, choice] of Object.entries(resolution.choose)) {
            if (choice === 'theirs') delete data[field];
          }
        }
        if (op.action === 'create' && !(op.type in TARGET_OF)) {
          // The id exists on the server with other content: yours becomes a change of it.
          data = withoutCreateOnly(op.type, data, current);
          op.action = 'update';
        }
        if (op.action !== 'delete' && Object.keys(data).length === 0) {
          await this.store().delete('queue', seq);
        } else {
          const next: StoredOperation = {
            ...op,
            opId: uuid(),
            data,
            baseVersion: theirsVersion,
            status: 'queued',
          };
          delete next.conflicts;
          delete next.current;
          delete next.problem;
          if (op.action === 'delete') delete next.data;
          await this.putOperation(seq, next);
        }
      }
      this.emit('queue');
      this.emit('change');
    });
  }

  // ---- sync ----

  /** Push the queue, then pull; concurrent calls share one run. */
  sync(): Promise<SyncReport> {
    if (!this.syncing) {
      this.syncing = this.exclusive(() => this.runSync()).finally(() => {
        this.syncing = null;
      });
    }
    return this.syncing;
  }

  private async runSync(): Promise<SyncReport> {
    await this.ensureSignedIn();
    const report: SyncReport = {
      pushed: 0, applied: 0, conflicts: 0, rejected: 0, pulled: 0, snapshot: false, familiesRemoved: [],
    };
    await this.push(report);
    await this.pull(report);
    this.state.lastSyncAt = this.now();
    await this.saveState();
    return report;
  }

  private async push(report: SyncReport): Promise<void> {
    // Rounds: at most one operation per record in each, so a later change carries the version
    // its predecessor made.
    for (let round = 0; round < 50; round++) {
      const ops = await this.operationsWithSeq();
      const blocked = new Set<string>();
      const batch: { seq: number; op: StoredOperation }[] = [];
      for (const entry of ops) {
        const target = entry.op.target ?? `op|${entry.op.opId}`;
        if (entry.op.status === 'conflict' || entry.op.status === 'rejected') {
          blocked.add(target);
          continue;
        }
        if (blocked.has(target)) continue;
        blocked.add(target);
        if (batch.length < PUSH_BATCH) batch.push(entry);
      }
      if (!batch.length) return;
      for (const entry of batch) {
        if (entry.op.action !== 'create' && entry.op.baseVersion === undefined && entry.op.target) {
          const stored = await this.readRecord(entry.op.target);
          if (stored?.server) entry.op.baseVersion = stored.server.version;
        }
        // Written before the request leaves: a tab closed now replays the same opId.
        entry.op.status = 'pushing';
        await this.putOperation(entry.seq, entry.op);
      }
      this.emit('queue');
      const body = {
        operations: batch.map(({ op }) => {
          const wire: Record<string, unknown> = {
            opId: op.opId, type: op.type, action: op.action, id: op.id, familyId: op.familyId,
          };
          if (op.baseVersion !== undefined) wire['baseVersion'] = op.baseVersion;
          if (op.data !== undefined && op.action !== 'delete') wire['data'] = op.data;
          return wire;
        }),
      };
      let results: PushResult[];
      try {
        results = (await this.call<{ results: PushResult[] }>('POST', '/sync', body)).results;
      } catch (error) {
        // Not sent, or no answer: the operations stay queued with their opIds.
        for (const entry of batch) {
          entry.op.status = 'queued';
          await this.putOperation(entry.seq, entry.op);
        }
        this.emit('queue');
        throw error;
      }
      report.pushed += batch.length;
      let progressed = false;
      for (const [index, entry] of batch.entries()) {
        const result = results[index];
        if (!result) continue;
        progressed = (await this.settle(entry.seq, entry.op, result, report)) || progressed;
      }
      this.emit('queue');
      this.emit('change');
      if (!progressed) return;
    }
  }

  /** Applies one push result; true when the operation left the queue. */
  private async settle(seq: number, op: StoredOperation, result: PushResult, report: SyncReport): Promise<boolean> {
    if (result.status === 'applied') {
      report.applied++;
      await this.store().delete('queue', seq);
      if (op.target && result.version) {
        const stored = await this.readRecord(op.target);
        if (op.action === 'delete' && op.target === key(op.type, op.id)) {
          await this.dropRecord(op.target, op.type, op.id);
        } else if (stored) {
          // The server's copy is this version with our change; the next pull brings its data.
          const base = stored.server?.data ?? {};
          const data = applyOperation(base, op);
          stored.server = { version: result.version, data: { ...data, version: result.version }, confirmed: false };
          await this.writeRecord(stored);
          // A following change of the same record now builds on this version.
          const next = (await this.operationsWithSeq()).find((o) => o.op.target === op.target);
          if (next && next.op.baseVersion === undefined && next.op.action !== 'create') {
            next.op.baseVersion = result.version;
            await this.putOperation(next.seq, next.op);
          }
        }
      }
      return true;
    }
    if (result.status === 'conflict') {
      report.conflicts++;
      op.status = 'conflict';
      op.conflicts = result.conflicts ?? [];
      if (result.current) op.current = result.current;
      await this.putOperation(seq, op);
      if (result.current && op.target) await this.takeServerCopy(op.target, op.familyId, result.current, false);
      this.dispatchEvent(new CustomEvent('conflict', { detail: publicOperation(op) }));
      return false;
    }
    if (isTransient(result.problem)) {
      op.status = 'queued';
      await this.putOperation(seq, op);
      return false;
    }
    report.rejected++;
    op.status = 'rejected';
    if (result.problem) op.problem = result.problem;
    await this.putOperation(seq, op);
    return false;
  }

  private async pull(report: SyncReport): Promise<void> {
    const before = (await this.familyIds()).size;
    let token = this.state.pullToken;
    if (token !== null) {
      try {
        token = await this.pullFrom(token, report);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 410)) throw error;
        token = null;
      }
    }
    if (token === null) token = await this.snapshot(report);
    this.state.pullToken = token;
    const after = await this.familyIds();
    if (before > 0 && after.size === 0 && report.familiesRemoved.length > 0) {
      await this.destroy('revoked');
      throw new SignInRequired('revoked', 'This device no longer has access to any family.');
    }
    this.state.hadFamilies = after.size > 0;
  }

  /** Pages of changes from a token; returns the token for the next pull. */
  private async pullFrom(token: string, report: SyncReport): Promise<string> {
    for (;;) {
      const page = await this.call<{ changes: SyncChange[]; next: string; more: boolean }>(
        'GET', `/sync?since=${encodeURIComponent(token)}&limit=${PULL_LIMIT}`,
      );
      for (const change of page.changes) await this.applyChange(change, report);
      token = page.next;
      // Saved per page: a pull cut off goes on from here.
      this.state.pullToken = token;
      await this.saveState();
      await this.removeEmptyFamilies(report);
      if (page.changes.length) this.emit('change');
      if (!page.more) return token;
    }
  }

  /** A full snapshot (first sync, or 410): it replaces the device's records, keeping the queue. */
  private async snapshot(report: SyncReport): Promise<string> {
    report.snapshot = true;
    const changes: SyncChange[] = [];
    let next: string | null = null;
    for (;;) {
      const query: string = next ? `?since=${encodeURIComponent(next)}&limit=${PULL_LIMIT}` : `?limit=${PULL_LIMIT}`;
      const page = await this.call<{ changes: SyncChange[]; next: string; more: boolean }>('GET', `/sync${query}`);
      changes.push(...page.changes);
      next = page.next;
      if (!page.more) break;
    }
    const present = new Set(changes.filter((c) => !c.deleted).map((c) => key(c.type, c.id)));
    const heldFamilies = await this.familyIds();
    const ops = await this.operations();
    const pendingCreates = new Set(ops.filter((o) => o.target && o.action === 'create').map((o) => o.target));
    for (const rowKey of await this.store().getAllKeys('records')) {
      if (present.has(rowKey) || pendingCreates.has(rowKey)) continue;
      if (rowKey.startsWith('media|') && (await this.store().get('uploads', `upload|${rowKey.slice(6)}`))) continue;
      const [type, id] = splitKey(rowKey);
      await this.dropRecord(rowKey, type, id);
    }
    for (const change of changes) await this.applyChange(change, report, true);
    const nowHeld = await this.familyIds();
    for (const familyId of heldFamilies) {
      if (!nowHeld.has(familyId)) {
        await this.removeFamily(familyId);
        report.familiesRemoved.push(familyId);
      }
    }
    this.emit('change');
    return next ?? '';
  }

  private async applyChange(change: SyncChange, report: SyncReport, fromSnapshot = false): Promise<void> {
    const target = key(change.type, change.id);
    const stored = await this.readRecord(target);
    if (change.deleted || change.data === null) {
      if (change.type === 'family') {
        if (stored || (await this.familyIds()).has(change.id)) {
          await this.removeFamily(change.id);
          if (!report.familiesRemoved.includes(change.id)) report.familiesRemoved.push(change.id);
          report.pulled++;
        }
        return;
      }
      if (stored) {
        await this.dropRecord(target, change.type, change.id);
        report.pulled++;
      }
      return;
    }
    if (stored?.server) {
      // The overlap window sends changes again: the same version is already here...
      if (stored.server.version === change.version && stored.server.confirmed && !fromSnapshot) return;
      // ...and an older copy never replaces a newer one.
      const held = String(stored.server.data['updatedAt'] ?? '');
      const incoming = String(change.data['updatedAt'] ?? '');
      if (held && incoming && incoming < held) return;
    }
    await this.writeRecord({
      type: change.type,
      id: change.id,
      familyId: change.familyId,
      server: { version: change.version, data: change.data, confirmed: true },
      ...(stored?.local ? { local: stored.local } : {}),
    });
    report.pulled++;
  }

  /** Families left with no family record (every record of it went away) leave the device. */
  private async removeEmptyFamilies(report: SyncReport): Promise<void> {
    const families = await this.familyIds();
    const keys = await this.store().getAllKeys('records');
    const orphaned = new Set<string>();
    for (const rowKey of keys) {
      const row = await this.store().get('records', rowKey);
      if (row && !families.has(row.familyId)) orphaned.add(row.familyId);
    }
    for (const familyId of orphaned) {
      const ops = await this.operations();
      if (ops.some((o) => o.familyId === familyId && o.action === 'create' && o.type !== 'family')) continue;
      await this.removeFamily(familyId);
      if (!report.familiesRemoved.includes(familyId)) report.familiesRemoved.push(familyId);
    }
  }

  // ---- media ----

  async upload(familyId: string, file: Blob, meta: MediaMeta, options: UploadOptions = {}): Promise<LocalRecord> {
    await this.ensureSignedIn();
    const mediaId = meta.id ?? uuid();
    const blockSize = Math.max(1, options.blockSize ?? DEFAULT_BLOCK_SIZE);
    const size = file.size;
    const blocks = Math.max(1, Math.ceil(size / blockSize));
    const vault = this.vaultOf();
    // The file is kept (encrypted, block by block) until the server has it.
    for (let index = 0; index < blocks; index++) {
      const chunk = new Uint8Array(await file.slice(index * blockSize, (index + 1) * blockSize).arrayBuffer());
      const where = `blobs|up|${mediaId}|${index}`;
      await this.store().put('blobs', { key: `up|${mediaId}|${index}`, mediaId, box: await vault.sealBytes(chunk, where) });
    }
    const state: UploadState = {
      mediaId, familyId, meta: { ...meta, id: mediaId }, size, blockSize, blocks, acknowledged: [], url: null, record: null,
    };
    await this.saveUpload(state);
    const at = new Date(this.now()).toISOString();
    const { id: _id, ...described } = meta;
    const local: StoredRecord = (await this.readRecord(key('media', mediaId))) ?? {
      type: 'media', id: mediaId, familyId, server: null,
    };
    local.local = { ...described, sizeBytes: size, status: 'uploading', createdAt: at, updatedAt: at };
    await this.writeRecord(local);
    this.emit('change');
    try {
      return await this.continueUpload(state, options.onProgress);
    } catch (error) {
      if (isNetworkError(error)) {
        const view = await this.record('media', mediaId);
        if (view) return view;
      }
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 403) {
        await this.forgetUpload(mediaId);
      }
      throw error;
    }
  }

  async resumeUploads(): Promise<number> {
    await this.ensureSignedIn();
    let finished = 0;
    for (const row of await this.store().getAll('uploads')) {
      const state = await this.vaultOf().open<UploadState>(row.box, `uploads|${row.key}`);
      await this.continueUpload(state);
      finished++;
    }
    return finished;
  }

  private async continueUpload(state: UploadState, onProgress?: (sent: number, total: number) => void): Promise<LocalRecord> {
    if (!state.url) await this.uploadSlot(state);
    const done = (): number => Math.min(state.size, state.acknowledged.length * state.blockSize);
    for (let index = 0; index < state.blocks; index++) {
      if (state.acknowledged.includes(index)) continue;
      const row = await this.store().get('blobs', `up|${state.mediaId}|${index}`);
      if (!row) throw new Error(`Block ${index} of upload ${state.mediaId} is missing on this device.`);
      const bytes = await this.vaultOf().openBytes(row.box, `blobs|up|${state.mediaId}|${index}`);
      await this.toStorage(state, `comp=block&blockid=${encodeURIComponent(blockId(index))}`, bytes, {});
      state.acknowledged.push(index);
      await this.saveUpload(state);
      onProgress?.(done(), state.size);
    }
    const list = Array.from({ length: state.blocks }, (_, i) => `<Latest>${blockId(i)}</Latest>`).join('');
    await this.toStorage(
      state,
      'comp=blocklist',
      new TextEncoder().encode(`<?xml version="1.0" encoding="utf-8"?><BlockList>${list}</BlockList>`),
      { 'x-ms-blob-content-type': state.meta.contentType },
    );
    onProgress?.(state.size, state.size);
    const record = state.record ?? {};
    const version = String(record['version'] ?? '');
    await this.forgetUpload(state.mediaId);
    const stored = (await this.readRecord(key('media', state.mediaId))) ?? {
      type: 'media', id: state.mediaId, familyId: state.familyId, server: null,
    };
    if (!stored.server || !stored.server.confirmed) {
      stored.server = { version, data: { ...record, status: 'processing' }, confirmed: false };
    }
    delete stored.local;
    await this.writeRecord(stored);
    this.emit('change');
    return (await this.record('media', state.mediaId))!;
  }

  /** Asks for the upload slot (again, for a fresh URL: the same body gives the same record). */
  private async uploadSlot(state: UploadState): Promise<void> {
    const { id, kind, contentType, fileName, caption, visibility, visitId, noteId } = state.meta;
    const body: Record<string, unknown> = { id, kind, contentType, sizeBytes: state.size };
    for (const [name, value] of Object.entries({ fileName, caption, visibility, visitId, noteId })) {
      if (value !== undefined) body[name] = value;
    }
    const made = await this.call<Record<string, unknown> & { upload: { url: string } }>(
      'POST', `/families/${encodeURIComponent(state.familyId)}/media`, body,
    );
    const { upload, ...record } = made;
    state.url = upload.url;
    state.record = record;
    await this.saveUpload(state);
  }

  private async toStorage(state: UploadState, query: string, body: Uint8Array, headers: Record<string, string>): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const url = `${state.url!}${state.url!.includes('?') ? '&' : '?'}${query}`;
      const response = await this.api.fetch(url, {
        method: 'PUT', body: body as BodyInit, headers: { 'x-ms-version': '2021-12-02', ...headers },
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status === 201) return;
      if ((response.status === 403 || response.status === 401) && attempt === 0) {
        // The SAS expired (or was refused): the same POST gives a fresh URL for the same blob.
        await this.uploadSlot(state);
        continue;
      }
      throw new ApiError(response.status, undefined, `Storage answered ${response.status}`);
    }
  }

  async media(mediaId: string, variant: MediaVariant): Promise<Blob | undefined> {
    await this.ensureSignedIn();
    const cacheKey = `m|${mediaId}|${variant}`;
    const cached = await this.store().get('blobs', cacheKey);
    if (cached) {
      const held = await this.vaultOf().open<{ type: string; bytes: string }>(cached.box, `blobs|${cacheKey}`);
      return new Blob([base64ToBytes(held.bytes) as BlobPart], { type: held.type });
    }
    const stored = await this.readRecord(key('media', mediaId));
    if (!stored) return undefined;
    let fresh: Record<string, unknown>;
    try {
      // Links last minutes: read the record for fresh ones.
      fresh = await this.call<Record<string, unknown>>(
        'GET', `/families/${encodeURIComponent(stored.familyId)}/media/${encodeURIComponent(mediaId)}`,
      );
    } catch (error) {
      if (isNetworkError(error)) return undefined;
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
    const url = linkOf(fresh, variant);
    if (!url) return undefined;
    let response: Response;
    try {
      response = await this.api.fetch(url, {});
    } catch (error) {
      if (isNetworkError(error)) return undefined;
      throw error;
    }
    if (!response.ok) return undefined;
    const bytes = new Uint8Array(await response.arrayBuffer());
    const type = response.headers.get('content-type') ?? 'application/octet-stream';
    await this.store().put('blobs', {
      key: cacheKey, mediaId,
      box: await this.vaultOf().seal({ type, bytes: bytesToBase64(bytes) }, `blobs|${cacheKey}`),
    });
    return new Blob([bytes as BlobPart], { type });
  }

  // ---- signing out ----

  async signOut(): Promise<void> {
    await this.destroy('sign-out');
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }

  // ---- internals ----

  private async ensureSignedIn(): Promise<void> {
    if (!this.vault || !this.db) throw new SignInRequired('sign-out', 'This store was closed or destroyed; sign in again.');
    const limit = this.options.maxOfflineDays * DAY_MS;
    if (this.now() - this.state.lastSyncAt > limit) {
      await this.destroy('expired');
      throw new SignInRequired('expired', `Not synced for more than ${this.options.maxOfflineDays} days; sign in again.`);
    }
  }

  /** Forgets the key and deletes the whole database: records, queue, uploads and media. */
  private async destroy(reason: SignOutReason): Promise<void> {
    this.vault = null;
    const db = this.db;
    this.db = null;
    if (db) {
      try {
        await db.delete('meta', 'vault');
      } catch {
        // the database is deleted next in any case
      }
      db.close();
    }
    await destroyDatabase(this.factory, this.name);
    this.dispatchEvent(new CustomEvent('signed-out', { detail: { reason } }));
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.api.json<T>(method, path, body);
    } catch (error) {
      if (error instanceof ApiError && error.status === 403 && path.startsWith('/sync')) {
        // The account may no longer sync at all (its role was taken away): nothing here is its.
        await this.destroy('revoked');
        throw new SignInRequired('revoked', 'This account may no longer use this device.');
      }
      throw error;
    }
  }

  private store(): Db {
    if (!this.db) throw new SignInRequired('sign-out', 'This store was closed or destroyed; sign in again.');
    return this.db;
  }

  private vaultOf(): Vault {
    if (!this.vault) throw new SignInRequired('sign-out', 'This store was closed or destroyed; sign in again.');
    return this.vault;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private emit(event: 'change' | 'queue'): void {
    this.dispatchEvent(new CustomEvent(event));
  }

  private async saveState(): Promise<void> {
    await this.store().put('meta', { name: 'state', box: await this.vaultOf().seal(this.state, 'meta|state') });
  }

  private async readRecord(rowKey: string): Promise<StoredRecord | undefined> {
    const row = await this.store().get('records', rowKey);
    return row ? this.vaultOf().open<StoredRecord>(row.box, `records|${rowKey}`) : undefined;
  }

  private async writeRecord(record: StoredRecord): Promise<void> {
    const rowKey = key(record.type, record.id);
    await this.store().put('records', {
      key: rowKey, familyId: record.familyId, box: await this.vaultOf().seal(record, `records|${rowKey}`),
    });
  }

  private async takeServerCopy(target: string, familyId: string, current: Record<string, unknown>, confirmed: boolean): Promise<void> {
    const [type, id] = splitKey(target);
    const stored = (await this.readRecord(target)) ?? { type, id, familyId, server: null };
    stored.server = { version: String(current['version'] ?? ''), data: current, confirmed };
    await this.writeRecord(stored);
  }

  private async dropRecord(rowKey: string, type: string, id: string): Promise<void> {
    await this.store().delete('records', rowKey);
    if (type === 'media') await this.purgeMedia(id);
  }

  private async purgeMedia(mediaId: string): Promise<void> {
    const db = this.store();
    for (const blobKey of await db.getAllKeysFromIndex('blobs', 'mediaId', mediaId)) await db.delete('blobs', blobKey);
    await db.delete('uploads', `upload|${mediaId}`);
  }

  /** Every record, queued operation, upload and cached media of a family leaves the device. */
  private async removeFamily(familyId: string): Promise<void> {
    const db = this.store();
    for (const rowKey of await db.getAllKeysFromIndex('records', 'familyId', familyId)) {
      const [type, id] = splitKey(rowKey);
      await this.dropRecord(rowKey, type, id);
    }
    for (const { seq, op } of await this.operationsWithSeq()) {
      if (op.familyId === familyId) await db.delete('queue', seq);
    }
    for (const row of await db.getAll('uploads')) {
      if (row.familyId === familyId) await this.purgeMedia(row.key.slice('upload|'.length));
    }
    this.emit('queue');
  }

  private async familyIds(): Promise<Set<string>> {
    const keys = await this.store().getAllKeys('records');
    return new Set(keys.filter((k) => k.startsWith('family|')).map((k) => k.slice('family|'.length)));
  }

  private async allRecords(): Promise<LocalRecord[]> {
    const ops = await this.operations();
    const out: LocalRecord[] = [];
    for (const row of await this.store().getAll('records')) {
      const view = this.view(await this.vaultOf().open<StoredRecord>(row.box, `records|${row.key}`), ops);
      if (view) out.push(view);
    }
    return out;
  }

  private async operationsWithSeq(): Promise<{ seq: number; op: StoredOperation }[]> {
    const rows = await this.store().getAll('queue');
    const out: { seq: number; op: StoredOperation }[] = [];
    for (const row of rows) {
      out.push({ seq: row.seq!, op: await this.vaultOf().open<StoredOperation>(row.box, `queue|${row.seq!}`) });
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  private async operations(): Promise<StoredOperation[]> {
    return (await this.operationsWithSeq()).map((o) => o.op);
  }

  private async enqueue(op: StoredOperation): Promise<void> {
    // The sequence number is the key, and the ciphertext is bound to it: reserve it first.
    const db = this.store();
    const placeholder: Sealed = { iv: new Uint8Array(12), ct: new ArrayBuffer(0) };
    const seq = await db.add('queue', { box: placeholder });
    await this.putOperation(seq, op);
  }

  private async putOperation(seq: number, op: StoredOperation): Promise<void> {
    await this.store().put('queue', { seq, box: await this.vaultOf().seal(op, `queue|${seq}`) });
  }

  private async saveUpload(state: UploadState): Promise<void> {
    const rowKey = `upload|${state.mediaId}`;
    await this.store().put('uploads', {
      key: rowKey, familyId: state.familyId, box: await this.vaultOf().seal(state, `uploads|${rowKey}`),
    });
  }

  private async forgetUpload(mediaId: string): Promise<void> {
    const db = this.store();
    for (const blobKey of await db.getAllKeysFromIndex('blobs', 'mediaId', mediaId)) {
      if (blobKey.startsWith('up|')) await db.delete('blobs', blobKey);
    }
    await db.delete('uploads', `upload|${mediaId}`);
  }

  /** The record as the app sees it: the server's copy with the queued changes on top. */
  private view(stored: StoredRecord, ops: StoredOperation[]): LocalRecord | undefined {
    const target = key(stored.type, stored.id);
    const mine = ops.filter((o) => o.target === target && o.status !== 'rejected');
    let data: Record<string, unknown> = stored.server ? { ...stored.server.data } : {};
    if (stored.local) data = { ...data, ...stored.local };
    let exists = stored.server !== null || stored.local !== undefined;
    for (const op of mine) {
      if (op.status === 'conflict') continue; // shown through conflicts(), not guessed into the record
      if (op.action === 'delete' && op.type === stored.type) {
        exists = false;
        continue;
      }
      data = applyOperation(data, op, new Date(this.now()).toISOString());
      exists = true;
    }
    if (!exists) return undefined;
    const pendingUpload = stored.local !== undefined;
    return {
      type: stored.type,
      id: stored.id,
      familyId: stored.familyId,
      version: stored.server?.version ?? '',
      data: { id: stored.id, type: stored.type, familyId: stored.familyId, ...data },
      pending: mine.some((op) => op.status !== 'conflict') || pendingUpload,
      conflict: mine.some((op) => op.status === 'conflict'),
    };
  }
}

function applyOperation(data: Record<string, unknown>, op: QueuedOperation, at?: string): Record<string, unknown> {
  const stamp = at ? { updatedAt: at } : {};
  if (op.type === 'agendaItem') {
    const items = Array.isArray(data['items']) ? [...(data['items'] as unknown[])] : [];
    if (!items.some((item) => (item as { id?: string })?.id === op.id)) {
      items.push({ id: op.id, text: op.data?.['text'], pending: Boolean(at) });
    }
    return { ...data, items };
  }
  if (op.type === 'visitSignOff') return data;
  if (op.action === 'create') return { createdAt: at, ...data, ...(op.data ?? {}), ...stamp };
  return { ...data, ...(op.data ?? {}), ...stamp };
}

/** Fields a create takes and a change may not (a comment's target, an item's agenda). */
function withoutCreateOnly(type: string, data: Record<string, unknown>, current: Record<string, unknown> | null): Record<string, unknown> {
  const out = { ...data };
  if (type === 'comment') {
    delete out['targetType'];
    delete out['targetId'];
  }
  for (const [field, value] of Object.entries(out)) {
    if (current && JSON.stringify(current[field]) === JSON.stringify(value)) delete out[field];
  }
  return out;
}

function publicOperation(op: StoredOperation): QueuedOperation {
  const { target: _target, ...rest } = op;
  return structuredClone(rest);
}

function splitKey(rowKey: string): [string, string] {
  const at = rowKey.indexOf('|');
  return [rowKey.slice(0, at), rowKey.slice(at + 1)];
}

function linkOf(record: Record<string, unknown>, variant: MediaVariant): string | undefined {
  if (variant === 'original') return typeof record['downloadUrl'] === 'string' ? record['downloadUrl'] : undefined;
  const thumbnails = Array.isArray(record['thumbnails']) ? (record['thumbnails'] as { size?: string; url?: string }[]) : [];
  return thumbnails.find((t) => t.size === variant)?.url;
}

function newestFirst(a: LocalRecord, b: LocalRecord): number {
  return String(b.data['updatedAt'] ?? '').localeCompare(String(a.data['updatedAt'] ?? ''));
}

function byName(a: LocalRecord, b: LocalRecord): number {
  return String(a.data['displayName'] ?? '').localeCompare(String(b.data['displayName'] ?? ''));
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
