// The cluster chat, the same on every runtime (each `main` passes its adapter's createServer):
// a client of `ws://HOST:PORT/rooms/NAME` gets every text message any other client sends to
// room NAME, on any process sharing the Redis given with `--redis` (or, without it, on this
// process only), once and in each sender's order; never its own. Prints `listening on
// ws://HOST:PORT` once ready; closes its connections and leaves Redis on SIGTERM/SIGINT.
//
// Flags: --port P (default 8080), --host H (default 127.0.0.1), --redis redis://HOST:PORT.

/** `--name value` pairs. */
function flags(argv) {
  const out = { port: '8080', host: '127.0.0.1', redis: '' };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (argv[i] === '--') continue;
    if (!(name in out) || i + 1 >= argv.length)
      throw new Error(`usage: --port P [--host H] [--redis redis://HOST:PORT] (got ${argv[i]})`);
    out[name] = argv[++i];
  }
  return out;
}

const PREFIX = '/rooms/';

/**
 * @param {string} runtime  'node', 'deno' or 'bun', for the log line
 * @param {{ createServer: Function, RedisBroker: Function, argv: string[], onSignal: (signal: string, stop: () => void) => void, exit: (code: number) => void }} host
 */
export async function main(runtime, { createServer, RedisBroker, argv, onSignal, exit }) {
  const args = flags(argv);
  const broker = args.redis === '' ? undefined : new RedisBroker({ url: args.redis, prefix: 'cluster-chat:' });
  const server = createServer(
    {
      broker,
      // Only /rooms/NAME is a chat room.
      verifyClient: (request) =>
        request.path.startsWith(PREFIX) && request.path.length > PREFIX.length ? true : { status: 404 },
    },
    (ws, request) => {
      const topic = decodeURIComponent(request.path.slice(PREFIX.length));
      ws.subscribe(topic);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) ws.publish(topic, data); // every other client of the room, on every process
      });
      ws.on('error', () => {}); // a client's violation closes that connection only
    },
  );
  // Cross-process fan-out needs Redis: wait for it a little (it may come later; the status says).
  if (broker !== undefined) {
    broker.on('status', (status) => console.error(`[cluster-chat ${runtime}] redis ${status}`));
    await Promise.race([broker.ready(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  }
  const { port } = await server.listen(Number(args.port), args.host);
  console.log(
    `listening on ws://${args.host}:${port} (${runtime}, ${broker === undefined ? 'in-process broker' : `redis ${args.redis} ${broker.status}`})`,
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => exit(0), 3000);
    Promise.all([server.close(), broker?.close()]).then(
      () => exit(0),
      () => exit(1),
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT']) onSignal(signal, stop);
}
