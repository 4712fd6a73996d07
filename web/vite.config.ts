import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const backend = process.env.KEFU_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  plugins: [react()],
  server: {
    proxy: {
      // ws: the notification bell's WebSocket (/api/v1/notifications/ws).
      '/api': { target: backend, changeOrigin: false, ws: true },
      '/healthz': { target: backend, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 1500,
  },
});
