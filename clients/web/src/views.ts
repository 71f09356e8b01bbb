// The screens: sign in, the families, a family's story (with writing, conflicts and media).
import type { FamilyStoryClient, LocalRecord, QueuedOperation } from '@familystory/client';
import type { Kind, Session } from './auth';
import type { AppConfig } from './config';
import { h, text, uid, when } from './dom';
import { mediaForm } from './media';

export interface View {
  config: AppConfig;
  client: FamilyStoryClient | undefined;
  session: Session | undefined;
  signIn(kind: Kind, who: { oid: string; roles: string[]; name?: string }): Promise<void>;
  sync(): Promise<void>;
  refresh(conflictArrived?: boolean): Promise<void>;
}

const ROLES: { value: string; label: string; kind: Kind; roles: string[] }[] = [
  { value: 'SocialWorker', label: 'Social worker', kind: 'staff', roles: ['SocialWorker'] },
  { value: 'TeamManager', label: 'Team manager', kind: 'staff', roles: ['TeamManager'] },
  { value: 'family', label: 'Family member', kind: 'family', roles: [] },
];

function heading(title: string): HTMLHeadingElement {
  return h('h1', { tabindex: -1 }, title);
}

function focusHeading(root: HTMLElement): void {
  root.querySelector<HTMLElement>('h1')?.focus();
}

function notice(consume = true): HTMLElement | null {
  const message = sessionStorage.getItem('familystory.notice');
  if (!message) return null;
  if (consume) sessionStorage.removeItem('familystory.notice');
  return h('p', { class: 'notice', role: 'alert' }, message);
}

export function renderSignIn(view: View, root: HTMLElement): void {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  if (view.config.signIn === 'entra') {
    const button = (kind: Kind, label: string) =>
      h('button', { type: 'button', class: 'primary', onclick: () => void view.signIn(kind, { oid: '', roles: [] }) }, label);
    root.replaceChildren(
      heading('Sign in to FamilyStory'),
      notice(false) ?? '',
      h('p', {}, 'Records you open are kept on this device, encrypted, until you sign out.'),
      h('div', { class: 'actions' }, button('staff', 'Sign in as council staff'), button('family', 'Sign in as a family member')),
    );
    focusHeading(root);
    return;
  }
  const roleId = uid('role');
  const oidId = uid('oid');
  const nameId = uid('name');
  const stored = localStorage.getItem('familystory.lastOid') ?? crypto.randomUUID();
  const form = h(
    'form',
    { class: 'card', 'aria-describedby': 'dev-hint' },
    h('p', { id: 'dev-hint', class: 'hint' }, 'Local development sign-in: choose who you are. The local issuer signs a token for that identity.'),
    h('label', { for: roleId }, 'Role'),
    h('select', { id: roleId, name: 'role' }, ROLES.map((r) => h('option', { value: r.value }, r.label))),
    h('label', { for: oidId }, 'User id (a UUID)'),
    h('input', { id: oidId, name: 'oid', required: true, value: stored, pattern: '[0-9a-fA-F-]{36}', autocomplete: 'off', spellcheck: false }),
    h('label', { for: nameId }, 'Display name (optional)'),
    h('input', { id: nameId, name: 'name', autocomplete: 'name' }),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const role = ROLES.find((r) => r.value === data.get('role')) ?? ROLES[0]!;
    const oid = String(data.get('oid')).trim().toLowerCase();
    localStorage.setItem('familystory.lastOid', oid);
    view
      .signIn(role.kind, { oid, roles: role.roles, name: String(data.get('name') ?? '').trim() || undefined })
      .catch((failure: unknown) => {
        error.hidden = false;
        error.textContent = `Sign-in failed: ${failure instanceof Error ? failure.message : String(failure)}`;
        error.focus();
      });
  });
  root.replaceChildren(heading('Sign in to FamilyStory'), notice(false) ?? '', form);
  focusHeading(root);
}

export async function renderFamilies(view: View, root: HTMLElement): Promise<void> {
  const list = h('ul', { class: 'families', 'data-live': true });
  const fill = async () => {
    const families = (await view.client?.families()) ?? [];
    families.sort((a, b) => text(a.data['displayName']).localeCompare(text(b.data['displayName'])));
    list.replaceChildren(
      ...(families.length
        ? families.map((family) =>
            h(
              'li',
              {},
              h('a', { href: `#/families/${encodeURIComponent(family.id)}` }, text(family.data['displayName']) || 'A family'),
            ),
          )
        : [h('li', { class: 'empty' }, 'No families on this device yet. They appear once this device has synced.')]),
    );
  };
  list.addEventListener('refresh', () => void fill());
  await fill();
  root.replaceChildren(heading('Families'), notice() ?? '', list);
  focusHeading(root);
}

function pending(record: LocalRecord): HTMLElement | null {
  if (record.conflict) return h('span', { class: 'badge conflicted' }, 'Changed elsewhere: needs your choice');
  return record.pending ? h('span', { class: 'badge pending' }, 'Saved on this device only') : null;
}

function byline(record: LocalRecord): string {
  const by = record.data['updatedBy'] ?? record.data['createdBy'];
  // A record made on this device has no author from the server yet: it is the user's own.
  const name = by && typeof by === 'object' ? text((by as Record<string, unknown>)['name']) : record.pending ? 'You' : '';
  const at = when(record.data['updatedAt'] ?? record.data['createdAt']);
  return [name, at].filter(Boolean).join(' · ');
}

function visibility(record: LocalRecord): HTMLElement | null {
  return record.data['visibility'] === 'professionals' ? h('span', { class: 'badge private' }, 'Professionals only') : null;
}

function comments(all: LocalRecord[], target: LocalRecord): HTMLElement | null {
  const mine = all.filter((c) => c.type === 'comment' && c.data['targetId'] === target.id);
  if (!mine.length) return null;
  return h(
    'ul',
    { class: 'comments', 'aria-label': 'Comments' },
    mine.reverse().map((c) => h('li', {}, h('p', {}, text(c.data['body'])), h('p', { class: 'meta' }, byline(c)), pending(c))),
  );
}

function canEdit(view: View, record: LocalRecord): boolean {
  if (view.session?.kind === 'staff') return true;
  const by = record.data['createdBy'] as Record<string, unknown> | undefined;
  return !by || by['id'] === view.session?.oid;
}

function noteItem(view: View, all: LocalRecord[], note: LocalRecord): HTMLElement {
  const body = h('p', { class: 'body' }, text(note.data['body']));
  const item = h('li', { class: 'record note', 'data-id': note.id }, body, h('p', { class: 'meta' }, byline(note), ' ', visibility(note), ' ', pending(note)));
  if (canEdit(view, note)) {
    const edit = h('button', { type: 'button', class: 'link' }, 'Edit note');
    edit.addEventListener('click', () => {
      const id = uid('edit');
      const area = h('textarea', { id, rows: 4 }, text(note.data['body']));
      const form = h(
        'form',
        { class: 'edit' },
        h('label', { for: id }, 'Edit the note'),
        area,
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save changes'), h('button', { type: 'button', class: 'cancel' }, 'Cancel')),
      );
      form.querySelector('.cancel')?.addEventListener('click', () => {
        form.replaceWith(edit);
        edit.focus();
      });
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        void view.client?.update('note', note.id, { body: area.value }).then(() => view.sync());
      });
      edit.replaceWith(form);
      area.focus();
    });
    item.append(edit);
  }
  const thread = comments(all, note);
  if (thread) item.append(thread);
  return item;
}

function section(title: string, items: HTMLElement[], empty: string): HTMLElement {
  const id = uid('section');
  return h(
    'section',
    { 'aria-labelledby': id },
    h('h2', { id }, title),
    items.length ? h('ul', { class: 'records' }, items) : h('p', { class: 'empty' }, empty),
  );
}

function visitItem(visit: LocalRecord): HTMLElement {
  const d = visit.data;
  return h(
    'li',
    { class: 'record visit' },
    h('p', { class: 'body' }, `${when(d['startsAt'])} – ${text(d['status'])}`, d['location'] ? ` · ${text(d['location'])}` : ''),
    pending(visit),
  );
}

function agendaItem(all: LocalRecord[], agenda: LocalRecord): HTMLElement {
  const items = Array.isArray(agenda.data['items']) ? (agenda.data['items'] as Record<string, unknown>[]) : [];
  return h(
    'li',
    { class: 'record agenda' },
    h('h3', {}, text(agenda.data['title']) || 'Agenda'),
    h('ul', { class: 'items' }, items.map((i) => h('li', {}, i['done'] ? '✓ ' : '', text(i['text'])))),
    h('p', { class: 'meta' }, byline(agenda), ' ', visibility(agenda), ' ', pending(agenda)),
    comments(all, agenda),
  );
}

function planItem(all: LocalRecord[], plan: LocalRecord): HTMLElement {
  const actions = Array.isArray(plan.data['actions']) ? (plan.data['actions'] as Record<string, unknown>[]) : [];
  return h(
    'li',
    { class: 'record plan' },
    h('h3', {}, text(plan.data['title']) || 'Plan'),
    h(
      'ul',
      { class: 'items' },
      actions.map((a) => h('li', {}, text(a['text']), a['owner'] ? ` (${text(a['owner'])})` : '', a['dueDate'] ? ` by ${text(a['dueDate'])}` : '', ` – ${text(a['status'])}`)),
    ),
    h('p', { class: 'meta' }, byline(plan), ' ', visibility(plan), ' ', pending(plan)),
    comments(all, plan),
  );
}

const objectUrls = new Set<string>();

function mediaItem(view: View, all: LocalRecord[], media: LocalRecord): HTMLElement {
  const d = media.data;
  const caption = text(d['caption']);
  const kind = text(d['kind']);
  const figure = h('figure', {});
  const status = text(d['status']);
  if (status === 'ready' && view.client) {
    const variant = kind === 'photo' || kind === 'video' ? 'small' : 'original';
    void view.client
      .media(media.id, variant)
      .then((blob) => {
        if (!blob) return;
        const url = URL.createObjectURL(blob);
        objectUrls.add(url);
        if (kind === 'audio') figure.prepend(h('audio', { controls: true, src: url, 'aria-label': caption || 'Audio recording' }));
        else figure.prepend(h('img', { src: url, alt: caption || `A ${kind} added ${when(d['createdAt'])}`, loading: 'lazy' }));
      })
      .catch(() => figure.prepend(h('p', { class: 'meta' }, 'Not on this device yet.')));
  } else {
    const label = status === 'rejected' ? `Not accepted: ${text(d['rejectedReason'])}` : media.pending || status === 'awaiting_upload' ? 'Uploading' : 'Being processed';
    figure.append(h('p', { class: 'meta' }, label));
  }
  figure.append(h('figcaption', {}, caption || kind));
  return h('li', { class: 'record media' }, figure, h('p', { class: 'meta' }, byline(media), ' ', visibility(media), ' ', pending(media)), comments(all, media));
}

function value(v: unknown): string {
  if (v === undefined) return '(nothing)';
  if (v === null) return '(removed)';
  return typeof v === 'string' ? v : JSON.stringify(v, null, 1);
}

function conflictCard(view: View, op: QueuedOperation, onChosen: () => void): HTMLElement {
  const id = uid('conflict');
  const fields = op.conflicts ?? [];
  const choose = (keep: 'yours' | 'theirs') => async () => {
    await view.client?.resolve(op.opId, { keep });
    onChosen();
    await view.sync();
  };
  return h(
    'section',
    { class: 'conflict card', 'aria-labelledby': id },
    h('h3', { id, tabindex: -1 }, `This ${op.type} was changed on the server while you edited it`),
    h(
      'table',
      {},
      h('caption', {}, 'Your version and the server’s, field by field'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Yours (this device)'), h('th', { scope: 'col' }, 'Theirs (the server)'))),
      h(
        'tbody',
        {},
        fields.map((f) => h('tr', {}, h('th', { scope: 'row' }, f.field), h('td', { class: 'yours' }, value(f.yours)), h('td', { class: 'theirs' }, value(f.theirs)))),
      ),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: () => void choose('yours')() }, 'Keep mine'),
      h('button', { type: 'button', onclick: () => void choose('theirs')() }, 'Keep theirs'),
    ),
  );
}

export async function renderFamily(view: View, root: HTMLElement, familyId: string): Promise<void> {
  const client = view.client;
  if (!client) return;
  const family = (await client.families()).find((f) => f.id === familyId);
  if (!family) {
    root.replaceChildren(heading('Family not on this device'), h('p', {}, h('a', { href: '#/families' }, 'Back to the families')));
    focusHeading(root);
    return;
  }
  const name = text(family.data['displayName']) || 'A family';
  const conflictsBox = h('div', { class: 'conflicts' });
  const story = h('div', { class: 'story', 'data-live': true });
  const agendaSelect = h('select', { id: uid('agenda'), name: 'agendaId' });

  const fill = async (conflictArrived = false) => {
    const stillHere = (await client.families()).some((f) => f.id === familyId);
    if (!stillHere) {
      sessionStorage.setItem('familystory.notice', `${name} is no longer on this device.`);
      location.hash = '#/families';
      return;
    }
    const all = await client.records(familyId);
    const of = (type: string) => all.filter((r) => r.type === type);
    const conflicts = (await client.conflicts()).filter((op) => op.familyId === familyId);
    conflictsBox.replaceChildren(
      ...(conflicts.length
        ? [h('h2', {}, 'Changes that need your choice'), ...conflicts.map((op) => conflictCard(view, op, () => void fill()))]
        : []),
    );
    if (conflictArrived) conflictsBox.querySelector<HTMLElement>('h3')?.focus();
    const agendas = of('agenda');
    const chosen = agendaSelect.value;
    agendaSelect.replaceChildren(...agendas.map((a) => h('option', { value: a.id }, text(a.data['title']) || 'Agenda')));
    if (chosen) agendaSelect.value = chosen;
    for (const url of objectUrls) URL.revokeObjectURL(url);
    objectUrls.clear();
    story.replaceChildren(
      section('Notes', of('note').map((n) => noteItem(view, all, n)), 'No notes yet.'),
      section('Visits', of('visit').map(visitItem), 'No visits yet.'),
      section('Agendas', agendas.map((a) => agendaItem(all, a)), 'No agendas yet.'),
      section('Plans', of('plan').map((p) => planItem(all, p)), 'No plans yet.'),
      section('Photos and recordings', of('media').map((m) => mediaItem(view, all, m)), 'No photos or recordings yet.'),
    );
    agendaForm.hidden = agendas.length === 0;
  };

  const noteId = uid('note');
  const visibilityId = uid('visibility');
  const noteArea = h('textarea', { id: noteId, name: 'body', rows: 4, required: true });
  const noteForm = h(
    'form',
    { class: 'card', 'aria-labelledby': `${noteId}-h` },
    h('h2', { id: `${noteId}-h` }, 'Write a note'),
    h('label', { for: noteId }, 'Note'),
    noteArea,
    view.session?.kind === 'staff'
      ? [
          h('label', { for: visibilityId }, 'Who can see it'),
          h(
            'select',
            { id: visibilityId, name: 'visibility' },
            h('option', { value: 'professionals' }, 'Professionals only'),
            h('option', { value: 'family' }, 'Shared with the family'),
          ),
        ]
      : [],
    h('button', { type: 'submit', class: 'primary' }, 'Save note'),
  );
  noteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(noteForm);
    const body = String(data.get('body') ?? '').trim();
    if (!body) return;
    const note: Record<string, unknown> = { body };
    if (data.get('visibility')) note['visibility'] = data.get('visibility');
    void client.create('note', familyId, note).then(async () => {
      noteForm.reset();
      noteArea.focus();
      await fill();
      await view.sync();
    });
  });

  const itemId = uid('item');
  const agendaForm = h(
    'form',
    { class: 'card', 'aria-labelledby': `${itemId}-h` },
    h('h2', { id: `${itemId}-h` }, 'Add something to talk about'),
    h('label', { for: agendaSelect.id }, 'Agenda'),
    agendaSelect,
    h('label', { for: itemId }, 'What to talk about'),
    h('input', { id: itemId, name: 'text', required: true, autocomplete: 'off' }),
    h('button', { type: 'submit', class: 'primary' }, 'Add to the agenda'),
  );
  agendaForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(agendaForm);
    const textValue = String(data.get('text') ?? '').trim();
    if (!textValue || !agendaSelect.value) return;
    void client.create('agendaItem', familyId, { agendaId: agendaSelect.value, text: textValue }).then(async () => {
      (agendaForm.querySelector('input') as HTMLInputElement).value = '';
      await fill();
      await view.sync();
    });
  });

  story.addEventListener('refresh', (event) => void fill((event as CustomEvent<{ conflictArrived?: boolean }>).detail?.conflictArrived));
  await fill();
  root.replaceChildren(
    h('p', { class: 'crumbs' }, h('a', { href: '#/families' }, '← Families')),
    heading(name),
    notice() ?? '',
    conflictsBox,
    h('div', { class: 'write' }, noteForm, agendaForm, mediaForm(view, familyId, () => void fill())),
    story,
  );
  focusHeading(root);
}
