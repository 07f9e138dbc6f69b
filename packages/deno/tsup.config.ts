import { defineConfig } from 'tsup';

// The npm build of the Deno adapter (for `npm:@ws/deno`; JSR takes src/ as it is): ESM with
// declarations, checked against Deno's types (.deno-types/, written by build.mjs). `@ws/codec`
// and `@ws/zlib` stay imports.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['@ws/codec', '@ws/codec/session', '@ws/codec/http2', '@ws/zlib', /^node:/],
  tsconfig: 'tsconfig.build.json',
});
