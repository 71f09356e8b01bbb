// @familystory/client: the sync protocol of FamilyStory's API as a library.
//
// An encrypted offline store per user (IndexedDB through `idb`, AES-GCM under a
// non-extractable WebCrypto key), a durable operation queue with opIds, pulls by
// token with overlap de-duplication and tombstones, conflicts surfaced field by
// field and resolved only by the app, and resumable media uploads in blocks.

/** The API's record types, as sync names them. */
export type RecordType =
  | 'family'
  | 'member'
  | 'visit'
  | 'agenda'
  | 'agendaItem'
  | 'note'
  | 'plan'
  | 'comment'
  | 'media'
  | 'words'
  | 'chronologyEvent'
  | 'visitSignOff'
  | 'safetyAlert'
  | (string & {});

export interface LocalRecord {
  type: string;
  id: string;
  familyId: string;
  version: string;
  data: Record<string, unknown>;
  /** True while a local write on it is queued and not yet applied by the server. */
  pending: boolean;
  /** True while a local write on it met a change made elsewhere and waits for the app's choice
   * (`conflicts()`, `resolve`); the record shows the server's copy meanwhile. */
  conflict: boolean;
}

export interface FieldConflict {
  field: string;
  yours: unknown;
  theirs: unknown;
}

/** Applied operations leave the queue. */
export type OperationStatus = 'queued' | 'pushing' | 'conflict' | 'rejected';

export interface Problem {
  title: string;
  status: number;
  detail?: string;
}

export interface QueuedOperation {
  opId: string;
  type: string;
  action: 'create' | 'update' | 'delete';
  id: string;
  familyId: string;
  baseVersion?: string;
  data?: Record<string, unknown>;
  status: OperationStatus;
  queuedAt: string;
  conflicts?: FieldConflict[];
  current?: Record<string, unknown>;
  problem?: Problem;
}

export type Resolution =
  | { keep: 'yours' }
  | { keep: 'theirs' }
  | { keep: 'fields'; choose: Record<string, 'yours' | 'theirs'> };

export interface SyncReport {
  pushed: number;
  applied: number;
  conflicts: number;
  rejected: number;
  pulled: number;
  snapshot: boolean;
  familiesRemoved: string[];
}

export type ClientEvent = 'change' | 'queue' | 'conflict' | 'signed-out';
export type SignOutReason = 'sign-out' | 'revoked' | 'expired';

export interface ClientOptions {
  /** e.g. http://localhost:7071/api/v1 */
  baseUrl: string;
  /** The signed-in user's oid: each user has their own store. */
  userId: string;
  /** A bearer token for the API. */
  getToken: () => Promise<string>;
  /** Default 14: past it, open() destroys the store and throws SignInRequired. */
  maxOfflineDays?: number;
  indexedDB?: IDBFactory;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface MediaMeta {
  kind: 'photo' | 'audio' | 'video';
  contentType: string;
  fileName?: string;
  caption?: string;
  visibility?: 'family' | 'professionals';
  visitId?: string;
  noteId?: string;
  id?: string;
}

export interface UploadOptions {
  blockSize?: number;
  onProgress?: (sent: number, total: number) => void;
}

export type MediaVariant = 'original' | 'small' | 'large';

export { SignInRequired, ApiError } from './errors.js';
export { FamilyStoryClient } from './client.js';
