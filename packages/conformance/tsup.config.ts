import { defineConfig } from 'tsup';

// The CLI and the library as ESM for Node (the suite drives node:net sockets). No declarations:
// the package is private, and TypeScript consumers in the workspace import `src` directly.
export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});
