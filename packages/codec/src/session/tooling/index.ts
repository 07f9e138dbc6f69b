/**
 * The repository's own tooling, shared by the adapters' bin scripts (echo servers, Autobahn
 * clients), the conformance and benchmark tools: the Autobahn client loop, the bins' flags and
 * the echo servers' plain-HTTP handler. Not part of the published API: no `exports` entry points
 * here (the bins import it by path: Node's from `dist/tooling.js`, Deno's and Bun's from source).
 */
export { runAutobahnClient, type AutobahnClientOptions } from './autobahn-client.ts';
export { parseFlags, serverFlagOptions, type ServerFlagOptions } from './flags.ts';
export { echoFetch, testFetch, ECHO_PAGE } from './echo-fetch.ts';
