import { defineConfig } from 'tsup';

// ESM + CJS builds with declarations. `@ws/codec` (a dependency) and `node:zlib` stay imports.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
