/**
 * Security headers on every response of `vite` (dev), `vite preview` (what `npm start` runs) and the
 * browser suites (which serve with `vite preview` too):
 *
 * - Content-Security-Policy allowing only what the playground needs: its own scripts, styles, data and
 *   model files ('self'); the training worker and blob: workers; WebAssembly compilation for the tfjs
 *   wasm backend ('wasm-unsafe-eval', not 'unsafe-eval'); blob: and data: images (thumbnails, the
 *   icon); React's inline style attributes; fetches of the page's own files, blob: URLs and https:
 *   (a tfjs model.json URL the user types on the Data tab). No plugins, no framing, no foreign forms.
 *   The dev server also needs its HMR websocket and React Refresh's inline preamble script.
 * - X-Content-Type-Options: nosniff; frame protection (frame-ancestors 'none' and X-Frame-Options: DENY
 *   for older browsers); Referrer-Policy: no-referrer.
 * - Cross-origin isolation (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy:
 *   require-corp), which is what gives the page and its workers SharedArrayBuffer, and so tfjs's threaded
 *   wasm build (issue 18). require-corp blocks only cross-origin no-cors loads without a
 *   Cross-Origin-Resource-Policy header; everything the page loads is its own (scripts, wasm, models,
 *   packs, starter, WordNet) or blob:/data:, and a model.json URL typed on the Data tab is fetched in cors
 *   mode, which COEP allows. The threaded build's pthread workers are blob: workers that importScripts()
 *   the wasm glue from another blob: URL, hence blob: in script-src (only the page's own scripts can make
 *   a blob: URL).
 *
 * Only Node APIs; imported by vite.config.ts.
 */
import type { Connect, Plugin } from 'vite';

/** The policy, as directive -> sources; `dev` adds what the dev server's HMR needs. */
export function contentSecurityPolicy(dev: boolean): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'", "'wasm-unsafe-eval'", 'blob:', ...(dev ? ["'unsafe-inline'"] : [])],
    'worker-src': ["'self'", 'blob:'],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'blob:', 'data:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'", 'blob:', 'data:', 'https:', ...(dev ? ['ws:', 'wss:'] : [])],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  };
  return Object.entries(directives)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ');
}

/** The two headers that make the page cross-origin isolated (`self.crossOriginIsolated`). */
export const CROSS_ORIGIN_ISOLATION: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** All the headers, for a server in `dev` mode or not. */
export function securityHeaders(dev: boolean): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(dev),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    ...CROSS_ORIGIN_ISOLATION,
  };
}

function middleware(dev: boolean): Connect.NextHandleFunction {
  const headers = Object.entries(securityHeaders(dev));
  return (_req, res, next) => {
    for (const [k, v] of headers) res.setHeader(k, v);
    next();
  };
}

/** The Vite plugin: the headers on the dev server and on the preview server. */
export function securityHeadersPlugin(): Plugin {
  return {
    name: 'orderembed-security-headers',
    configureServer(server) {
      server.middlewares.use(middleware(true));
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware(false));
    },
  };
}
