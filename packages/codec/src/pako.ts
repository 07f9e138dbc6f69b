// @ws/codec/pako: permessage-deflate on pako (pure JS, any engine). An entry point of its own so
// that only the bundles that import it carry pako. This file only re-exports.
export { pakoBackend, pakoPermessageDeflate as permessageDeflate } from './extensions/pako-backend.ts';
export type { PerMessageDeflateOptions } from './extensions/permessage-deflate.ts';
export type { DeflateBackend } from './extensions/deflate-backend.ts';
