/**
 * Vite: `npm run dev` proxies the API, GraphQL (HTTP and WebSocket) and artifact routes to a
 * running `mltrail server` (MLTRAIL_BACKEND, default http://127.0.0.1:5000), so the SPA talks to
 * the same origin in development as it does when the backend serves `dist/`.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const backend = process.env.MLTRAIL_BACKEND ?? 'http://127.0.0.1:5000';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/graphql': { target: backend, ws: true, changeOrigin: true },
      '/api': { target: backend, changeOrigin: true },
      '/healthz': { target: backend },
    },
  },
  build: { sourcemap: true, chunkSizeWarningLimit: 1024 },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
