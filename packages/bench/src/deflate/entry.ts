// What the deflate benchmarks need: the codec's public API with its test pair, and @ws/node's
// zlib backend. Bundled from source (src/deflate/run.mjs), so a run measures the working tree.
export * from '../../../codec/src/index.ts';
export { pakoBackend } from '../../../codec/src/pako.ts';
export { ConnectionPair } from '../../../codec/src/testing/index.ts';
export { serializeFrame } from '../../../codec/src/frame-serializer.ts';
export { zlibBackend } from '../../../zlib/src/index.ts';
