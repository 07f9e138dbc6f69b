import { defineConfig } from 'tsup';

// ESM + CJS builds of the codec with declarations for both (dist/index.d.ts, dist/index.d.cts).
// Relative imports in src carry `.ts` extensions: esbuild resolves them, and the d.ts build (tsup
// 8.5 + TypeScript 5.9, compiler options from the root tsconfig.json) accepts them as is, since it
// emits declarations only (`allowImportingTsExtensions` is allowed with `emitDeclarationOnly`).
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  // Bundle the codec's own modules; its npm dependencies (and their subpaths) stay imports.
  external: [/^@noble\/hashes(\/.*)?$/, /^uint8arrays(\/.*)?$/],
});
