import { defineConfig } from 'tsup';

// ESM build of the Bun adapter with declarations (Bun also runs src/*.ts directly). `@ws/codec`
// stays an import; `bun` is only imported for types.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['bun', '@ws/codec', '@ws/codec/session', '@ws/codec/http2', /^node:/],
  tsconfig: 'tsconfig.build.json',
});
