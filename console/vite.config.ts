import { defineConfig } from 'vite';

/**
 * The operators' console, built to console/dist and served by the API at /console. Nothing is
 * inlined into the page (the CSP allows only the console's own script and style files) and nothing
 * is fetched from elsewhere. Built with `vite build console` (the root is this folder).
 */
export default defineConfig({
  base: '/console/',
  publicDir: 'public',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
