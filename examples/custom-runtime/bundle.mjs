// Bundle @ws/codec into one self-contained script for an engine with no module loader and no
// host APIs: an IIFE that defines the global `WsCodec`.
//
// - platform 'neutral' + the 'browser' condition: nothing resolves to a Node build, so no
//   `node:*` import and no `Buffer` can sneak in (uint8arrays' `concat` has a Node build using
//   Buffer; the browser/default one is plain typed arrays).
// - uint8arrays' host-free helpers are bundled in (the codec's own SHA-1 makes the accept key;
//   pako, for permessage-deflate, is in @ws/codec/pako, which this bundle does not import).
// - 'source' resolves @ws/codec to its TypeScript sources in this workspace (esbuild compiles
//   them), so no `pnpm build` is needed first. Outside the workspace, drop it: the same options
//   bundle the published dist/index.js.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** @returns {Promise<{ code: string, bytes: number, inputs: string[] }>} */
export async function buildCodecBundle({ outfile, minify = false } = {}) {
  const result = await esbuild.build({
    // The core and both roles' handshakes (each its own entry point: @ws/codec/server, /client).
    stdin: {
      contents:
        "export * from '@ws/codec'; export { serverConnection } from '@ws/codec/server'; export { clientConnection } from '@ws/codec/client';",
      resolveDir: HERE,
      sourcefile: 'ws-codec-entry.js',
    },
    absWorkingDir: HERE,
    bundle: true,
    format: 'iife',
    globalName: 'WsCodec',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['source', 'browser', 'module'],
    minify,
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (outfile) {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.dirname(outfile), { recursive: true });
    writeFileSync(outfile, output.contents);
  }
  return { code: output.text, bytes: output.contents.length, inputs: Object.keys(result.metafile.inputs) };
}

/** Evaluate the same bundle in Node and return its exports (what `WsCodec` is in QuickJS). */
export function loadInNode(code) {
  return new Function(`${code}\nreturn WsCodec;`)();
}
