// @ws/codec/emitter: the typed event emitter every connection and server of the session layer
// extends (`on`/`off`/`once`, a throwing listener reported on a fresh microtask), on its own: a
// package that only needs the emitter (@ws/redis's broker) does not carry the session layer,
// whose connection wires itself up as its module loads. This file only re-exports.
export { Emitter } from './session/emitter.ts';
export type { EventMap } from './session/emitter.ts';
