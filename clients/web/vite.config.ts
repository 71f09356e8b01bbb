import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The library is the workspace's own source, whichever checkout this is built in.
const library = fileURLToPath(new URL('../typescript/src/index.ts', import.meta.url));

export default defineConfig({
  resolve: { alias: { '@familystory/client': library } },
  build: { target: 'es2022', sourcemap: true, emptyOutDir: true },
  server: { port: 4280, strictPort: true },
});
