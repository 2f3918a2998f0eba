/// <reference types="vitest/config" />
// The console's build: Vue single-file components, Element Plus components imported on demand
// (each with its own CSS) so that a page loads only what it shows, one chunk per route.
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [
    vue(),
    Components({
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
      dts: 'src/components.d.ts',
    }),
  ],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2020',
    // no inline assets: the CSP allows images and fonts from 'self' and data: only
    assetsInlineLimit: 4096,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npx vite` during development: the API of a running `make run`
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
