import { defineConfig } from 'tsup';

// ESM + CJS builds of the codec and its session layer with declarations for both (dist/index.d.ts,
// dist/index.d.cts, dist/session.d.ts, dist/session.d.cts).
// Relative imports in src carry `.ts` extensions: esbuild resolves them, and the d.ts build (tsup
// 8.5 + TypeScript 5.9, compiler options from the root tsconfig.json) accepts them as is, since it
// emits declarations only (`allowImportingTsExtensions` is allowed with `emitDeclarationOnly`).
export default defineConfig({
  // Two entries share their modules through chunks (`splitting`, also for CJS) so classes such as
  // WebSocketUsageError are one class whether imported from `@ws/codec` or `@ws/codec/session`.
  entry: {
    index: 'src/index.ts',
    server: 'src/server.ts',
    client: 'src/client.ts',
    http: 'src/http.ts',
    proxy: 'src/proxy.ts',
    http2: 'src/http2.ts',
    session: 'src/session/index.ts',
    testing: 'src/testing/index.ts',
    // The repository's bin scripts' tooling: built for them, deliberately absent from `exports`.
    tooling: 'src/session/tooling/index.ts',
    pako: 'src/pako.ts',
    // The emitter alone (a chunk of its own), for packages that need nothing else of the session (@ws/redis).
    emitter: 'src/emitter.ts',
  },
  splitting: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // Bundle the codec's own modules; its npm dependencies (and their subpaths) stay imports.
  external: [/^uint8arrays(\/.*)?$/, /^pako(\/.*)?$/],
});
