import type {
  ClientOptions,
  LocalRecord,
  MediaMeta,
  MediaVariant,
  QueuedOperation,
  Resolution,
  SyncReport,
  UploadOptions,
} from './index.js';

const notYet = (): never => {
  throw new Error('not implemented yet');
};

export class FamilyStoryClient extends EventTarget {
  static async open(_options: ClientOptions): Promise<FamilyStoryClient> {
    return notYet();
  }
  async families(): Promise<LocalRecord[]> {
    return notYet();
  }
  async records(_familyId: string, _type?: string): Promise<LocalRecord[]> {
    return notYet();
  }
  async record(_type: string, _id: string): Promise<LocalRecord | undefined> {
    return notYet();
  }
  async create(_type: string, _familyId: string, _data: Record<string, unknown>, _id?: string): Promise<QueuedOperation> {
    return notYet();
  }
  async update(_type: string, _id: string, _patch: Record<string, unknown>): Promise<QueuedOperation> {
    return notYet();
  }
  async remove(_type: string, _id: string): Promise<QueuedOperation> {
    return notYet();
  }
  async queue(): Promise<QueuedOperation[]> {
    return notYet();
  }
  async conflicts(): Promise<QueuedOperation[]> {
    return notYet();
  }
  async resolve(_opId: string, _resolution: Resolution): Promise<void> {
    return notYet();
  }
  async sync(): Promise<SyncReport> {
    return notYet();
  }
  async upload(_familyId: string, _file: Blob, _meta: MediaMeta, _options?: UploadOptions): Promise<LocalRecord> {
    return notYet();
  }
  async resumeUploads(): Promise<number> {
    return notYet();
  }
  async media(_mediaId: string, _variant: MediaVariant): Promise<Blob | undefined> {
    return notYet();
  }
  async signOut(): Promise<void> {
    return notYet();
  }
  close(): void {}
}
