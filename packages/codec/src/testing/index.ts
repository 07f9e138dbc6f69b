/**
 * A kit for testing WebSocket logic without sockets: a client and a server `Connection` wired
 * back to back in memory, a fake clock that drives their deadlines, and a seeded random
 * source so masks and keys are reproducible. Our own tests use it; so can yours.
 */
export { FakeClock } from './fake-clock.ts';
export { seededRandom } from './seeded-random.ts';
export { ConnectionPair, type PairOptions, type Chunker } from './pair.ts';
export { hex, toHex } from './hex.ts';
export { parseFlags, serverFlagOptions, type ServerFlagOptions } from './flags.ts';
export { echoFetch, testFetch, ECHO_PAGE } from './echo-fetch.ts';
