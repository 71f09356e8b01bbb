// IndexedDB in Node: fake-indexeddb stands in for the browser's (the browser tests use the real
// one); WebCrypto is Node's own globalThis.crypto.
import 'fake-indexeddb/auto';
