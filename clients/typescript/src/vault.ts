// The encrypted store: one IndexedDB database per user, every value AES-GCM ciphertext under a
// non-extractable key held in the same database while the user is signed in.

import { wrap, type DBSchema, type IDBPDatabase } from 'idb';

export interface Sealed {
  iv: Uint8Array<ArrayBuffer>;
  ct: ArrayBuffer;
}

/** A row: only the ids needed to find it are in the clear. */
export interface Row {
  key: string;
  familyId: string;
  box: Sealed;
}

export interface QueueRow {
  seq?: number;
  box: Sealed;
}

export interface BlobRow {
  key: string;
  mediaId: string;
  box: Sealed;
}

interface Schema extends DBSchema {
  meta: { key: string; value: { name: string; key?: CryptoKey; box?: Sealed } };
  records: { key: string; value: Row; indexes: { familyId: string } };
  queue: { key: number; value: QueueRow };
  uploads: { key: string; value: Row };
  blobs: { key: string; value: BlobRow; indexes: { mediaId: string } };
}

export type Db = IDBPDatabase<Schema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The database's name: a digest of the user id, so the oid itself is not written. */
export async function databaseName(userId: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`familystory|${userId}`));
  return `familystory-${hex(new Uint8Array(digest)).slice(0, 32)}`;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function openStore(factory: IDBFactory, name: string): Promise<Db> {
  const request = factory.open(name, 1);
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore('meta', { keyPath: 'name' });
    db.createObjectStore('records', { keyPath: 'key' }).createIndex('familyId', 'familyId');
    db.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
    db.createObjectStore('uploads', { keyPath: 'key' });
    db.createObjectStore('blobs', { keyPath: 'key' }).createIndex('mediaId', 'mediaId');
  };
  const raw = await new Promise<IDBDatabase>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('indexedDB.open failed'));
  });
  // Another tab deleting the store (sign-out, revocation) must not be blocked by this one.
  raw.onversionchange = () => raw.close();
  return wrap(raw) as unknown as Db;
}

/** Deletes the whole database, waiting until it is gone. */
export function destroyDatabase(factory: IDBFactory, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = factory.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error('deleteDatabase failed'));
    request.onblocked = () => undefined; // resolves once the other connections close
  });
}

export class Vault {
  constructor(private readonly key: CryptoKey) {}

  static async create(): Promise<{ vault: Vault; key: CryptoKey }> {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    return { vault: new Vault(key), key };
  }

  /** Ciphertext of bytes, with a fresh IV and bound to where it is stored (``where``). */
  async sealBytes(bytes: Uint8Array<ArrayBuffer>, where: string): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: encoder.encode(where) },
      this.key,
      bytes,
    );
    return { iv, ct };
  }

  async openBytes(box: Sealed, where: string): Promise<Uint8Array<ArrayBuffer>> {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: box.iv, additionalData: encoder.encode(where) },
      this.key,
      box.ct,
    );
    return new Uint8Array(plain);
  }

  seal(value: unknown, where: string): Promise<Sealed> {
    return this.sealBytes(encoder.encode(JSON.stringify(value)), where);
  }

  async open<T>(box: Sealed, where: string): Promise<T> {
    return JSON.parse(decoder.decode(await this.openBytes(box, where))) as T;
  }
}
