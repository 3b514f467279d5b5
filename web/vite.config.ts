import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// `npm run dev` serves the app with hot reload and sends API calls to a running
// `authenticon serve` (AUTHENTICON_API, default http://127.0.0.1:8000).
const api = process.env.AUTHENTICON_API ?? 'http://127.0.0.1:8000';
const proxied = ['/api', '/protected-resource', '/register', '/healthz', '/readyz'];

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: api, changeOrigin: false }])),
  },
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: false },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
  },
});
