// People and families on the real local stack, made through the API as an app would make them.
import { IDBFactory } from 'fake-indexeddb';
import { inject } from 'vitest';
import { FamilyStoryClient, type ClientOptions, type LocalRecord } from '../src/index.js';
import { slotPhone } from './stack.js';

export const uid = (): string => crypto.randomUUID();

export interface Person {
  oid: string;
  token: string;
}

export class Api {
  constructor(readonly baseUrl: string) {}

  async call(person: Person, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { authorization: `Bearer ${person.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  async ok(person: Person, method: string, path: string, body?: unknown): Promise<any> {
    const answer = await this.call(person, method, path, body);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }
}

export interface World {
  api: Api;
  keyFile: string;
  worker: Person;
  family: string;
  memberId: string;
  phone: string;
  parent: Person;
}

/** A social worker with a family, a parent of it and the parent's linked sign-in (people of
 * ``slot``, one per test file, minted by the global set-up). */
export async function makeWorld(slot: number, baseUrl = inject('baseUrl'), keyFile = inject('keyFile')): Promise<World> {
  const api = new Api(baseUrl);
  const people = inject('people');
  const mine = people.slots[slot];
  if (!mine) throw new Error(`no people minted for slot ${slot}`);
  const team = uid();
  const phone = `+447700900${slotPhone(mine.parentOid)}`;
  const worker = { oid: mine.workerOid, token: mine.worker };
  await api.ok({ oid: '', token: people.admin }, 'PUT', `/staff/${worker.oid}`, { displayName: 'Sam Patel', teamIds: [team] });
  const family = (await api.ok(worker, 'POST', '/families', { displayName: 'Jones', teamId: team })).id as string;
  const member = await api.ok(worker, 'POST', `/families/${family}/members`, {
    displayName: 'Pat Jones', relationship: 'parent', phone,
  });
  const invitation = await api.ok(worker, 'POST', `/families/${family}/invitations`, { memberId: member.id });
  const parent = { oid: mine.parentOid, token: mine.parent };
  await api.ok(parent, 'POST', '/invitations/redeem', { code: invitation.code });
  return { api, keyFile, worker, family, memberId: member.id, phone, parent };
}

/** A fetch that can be cut off: offline, every request fails as a dropped network does. */
export class Network {
  offline = false;
  readonly fetch: typeof fetch = async (input, init) => {
    if (this.offline) throw new TypeError('fetch failed: the network is down');
    return fetch(input, init);
  };
}

export interface Device {
  client: FamilyStoryClient;
  indexedDB: IDBFactory;
  network: Network;
  options: ClientOptions;
}

/** A device of a person: its own IndexedDB, its own network. */
export async function device(world: World, person: Person, extra: Partial<ClientOptions> = {}): Promise<Device> {
  const indexedDB = (extra.indexedDB as IDBFactory | undefined) ?? new IDBFactory();
  const network = new Network();
  const options: ClientOptions = {
    baseUrl: world.api.baseUrl,
    userId: person.oid,
    getToken: async () => person.token,
    indexedDB,
    fetch: network.fetch,
    ...extra,
  };
  const client = await FamilyStoryClient.open(options);
  return { client, indexedDB, network, options };
}

/** Syncs until the media record reaches a final status (the local host processes it). */
export async function untilProcessed(client: FamilyStoryClient, id: string): Promise<LocalRecord> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    await client.sync();
    const record = await client.record('media', id);
    const status = record?.data['status'];
    if (record && (status === 'ready' || status === 'rejected')) return record;
    if (Date.now() > deadline) throw new Error(`media ${id} still ${String(status)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

