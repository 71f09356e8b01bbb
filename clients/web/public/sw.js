// FamilyStory's service worker: the app shell, so the app opens without a network.
//
// Only the shell is cached: index.html, the scripts and styles it names, the manifest, the
// icons and config.json. Records never pass through here: the API is another origin, and the
// app keeps records in its own encrypted store. /dev/token is never cached.
const VERSION = 'familystory-shell-v1';
const SHELL = ['/', '/manifest.webmanifest', '/config.json', '/icons/icon.svg', '/icons/icon-192.png'];

async function precache() {
  const cache = await caches.open(VERSION);
  const index = await fetch('/index.html', { cache: 'no-cache' });
  if (!index.ok) throw new Error(`index.html: ${index.status}`);
  const html = await index.clone().text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  await cache.put('/index.html', index);
  await cache.addAll([...new Set([...SHELL, ...assets])]);
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== VERSION) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

async function networkFirst(request, fallback) {
  const cache = await caches.open(VERSION);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(fallback ?? request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(fallback ?? request);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(VERSION);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/dev/')) return;
  if (request.mode === 'navigate') {
    event.respondWith(networkFirst(request, '/index.html'));
  } else if (url.pathname === '/config.json') {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/icons/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(cacheFirst(request));
  }
});
