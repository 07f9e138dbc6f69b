import { defineConfig } from 'tsup';

// ESM + CJS builds of the Node adapter with declarations. `@ws/codec` (a dependency) and Node's
// built-ins stay imports.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
