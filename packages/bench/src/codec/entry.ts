// What the codec micro-benchmarks reach into: the public API plus the hot-path internals.
// Bundled from source by src/lib/build.mjs (Node 20 cannot run .ts), so a run always measures
// the working tree.
export * from '../../../codec/src/index.ts';
export { serverConnection } from '../../../codec/src/server.ts';
export { clientConnection } from '../../../codec/src/client.ts';
export { FrameParser, NEED_MORE, HEADER, PAYLOAD, FAILED } from '../../../codec/src/frame-parser.ts';
export { serializeFrame } from '../../../codec/src/frame-serializer.ts';
export { applyMask, maskCopy } from '../../../codec/src/mask.ts';
export { Utf8Validator } from '../../../codec/src/utf8.ts';
export { MaskKeyPool, defaultRandomSource } from '../../../codec/src/random.ts';
