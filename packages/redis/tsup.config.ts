import { defineConfig } from 'tsup';

// ESM + CJS builds with declarations. `@ws/codec` and `ioredis` (dependencies) stay imports.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
