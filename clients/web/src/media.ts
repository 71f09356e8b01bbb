// Taking a photo or recording audio, and uploading it through the library (resumable, in blocks).
import { h, uid } from './dom';
import type { View } from './views';

const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic'];

function audioType(): string | undefined {
  if (typeof MediaRecorder === 'undefined') return undefined;
  return ['audio/webm', 'audio/ogg', 'audio/mp4'].find((t) => MediaRecorder.isTypeSupported(t));
}

export function mediaForm(view: View, familyId: string, onAdded: () => void): HTMLElement {
  const photoId = uid('photo');
  const captionId = uid('caption');
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const status = h('p', { class: 'meta', role: 'status' });
  const caption = h('input', { id: captionId, name: 'caption', autocomplete: 'off' });
  const photo = h('input', { id: photoId, type: 'file', accept: 'image/*', capture: 'environment' });

  const upload = async (file: Blob, kind: 'photo' | 'audio', contentType: string, fileName: string) => {
    if (!view.client) return;
    progress.hidden = false;
    progress.value = 0;
    status.textContent = `Uploading the ${kind}…`;
    try {
      await view.client.upload(
        familyId,
        file,
        { kind, contentType, fileName, caption: caption.value.trim() || undefined, ...(view.session?.kind === 'staff' ? { visibility: 'family' as const } : {}) },
        { onProgress: (sent, total) => (progress.value = total ? sent / total : 1) },
      );
      status.textContent = `The ${kind} is uploaded; it appears once processed.`;
      caption.value = '';
      onAdded();
      await view.sync();
    } catch (error) {
      status.textContent = `The ${kind} is kept on this device and will upload when the connection is back (${error instanceof Error ? error.message : String(error)}).`;
    } finally {
      progress.hidden = true;
    }
  };

  photo.addEventListener('change', () => {
    const file = photo.files?.[0];
    photo.value = '';
    if (!file) return;
    if (!PHOTO_TYPES.includes(file.type)) {
      status.textContent = `A photo must be JPEG, PNG, WebP or HEIC (this is ${file.type || 'unknown'}).`;
      return;
    }
    void upload(file, 'photo', file.type, file.name);
  });

  const record = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Record audio');
  const type = audioType();
  if (!type || !navigator.mediaDevices?.getUserMedia) {
    record.disabled = true;
    record.title = 'This browser cannot record audio.';
  }
  let recorder: MediaRecorder | undefined;
  record.addEventListener('click', async () => {
    if (recorder && recorder.state === 'recording') {
      recorder.stop();
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const chunks: Blob[] = [];
      recorder = new MediaRecorder(stream, { mimeType: type });
      recorder.addEventListener('dataavailable', (event) => chunks.push(event.data));
      recorder.addEventListener('stop', () => {
        stream.getTracks().forEach((track) => track.stop());
        record.textContent = 'Record audio';
        record.setAttribute('aria-pressed', 'false');
        const blob = new Blob(chunks, { type: type! });
        void upload(blob, 'audio', type!, `recording-${new Date().toISOString()}.${type!.split('/')[1]}`);
      });
      recorder.start();
      record.textContent = 'Stop recording';
      record.setAttribute('aria-pressed', 'true');
      status.textContent = 'Recording…';
    } catch (error) {
      status.textContent = `Cannot record: ${error instanceof Error ? error.message : String(error)}`;
    }
  });

  return h(
    'section',
    { class: 'card', 'aria-labelledby': `${photoId}-h` },
    h('h2', { id: `${photoId}-h` }, 'Add a photo or a recording'),
    h('label', { for: captionId }, 'Caption (optional)'),
    caption,
    h('label', { for: photoId }, 'Take or choose a photo'),
    photo,
    h('div', { class: 'actions' }, record),
    progress,
    status,
  );
}
