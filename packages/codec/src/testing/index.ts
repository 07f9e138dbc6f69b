/**
 * A kit for testing WebSocket logic without sockets: a client and a server `Connection` wired
 * back to back in memory (`ConnectionPair`), a server whose clients connect in memory for
 * testing application handlers (`createMemoryServer`), a fake clock that drives their deadlines
 * and timers, and a seeded random source so masks and keys are reproducible. Our own tests use
 * it; so can yours.
 */
export { FakeClock, flushMicrotasks } from '../session/fake-clock.ts';
export { MemoryServer, createMemoryServer } from '../session/memory-server.ts';
export { MemoryTransport, transportPair } from '../session/memory-transport.ts';
export { seededRandom } from './seeded-random.ts';
export { ConnectionPair, type PairOptions, type Chunker } from './pair.ts';
export { hex, toHex } from './hex.ts';
