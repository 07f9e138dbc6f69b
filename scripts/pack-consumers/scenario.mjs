// The exchange every runtime's consumer of the packed packages runs (Node ESM, Bun, Deno): a
// server on 127.0.0.1 (port from the OS) with permessage-deflate, a client, one text message
// there and back (compressed: it is over the 1 KiB threshold), a clean close. Throws on anything
// else; prints one line when it passes.
export async function exchange(api, label) {
  const { createServer, connect, permessageDeflate } = api;
  const check = (ok, what) => {
    if (!ok) throw new Error(`${label}: ${what}`);
  };
  const within = (promise, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: no ${what} within 10 s`)), 10_000);
      promise.then(
        (value) => (clearTimeout(timer), resolve(value)),
        (error) => (clearTimeout(timer), reject(error)),
      );
    });

  const server = createServer({ extensions: [permessageDeflate()] }, (ws) => {
    ws.on('message', (data) => ws.send(`echo: ${data}`));
  });
  const { port } = await within(server.listen(0, '127.0.0.1'), 'listen');
  check(Number.isInteger(port) && port > 0, `listen gave port ${port}`);
  const ws = await within(connect(`ws://127.0.0.1:${port}/`, { extensions: [permessageDeflate()] }), 'open');
  check(ws.extensions.startsWith('permessage-deflate'), `extensions negotiated: "${ws.extensions}"`);
  const reply = new Promise((resolve) => ws.on('message', resolve));
  const text = `héllo ✓ ${'x'.repeat(2000)}`;
  ws.send(text);
  const got = await within(reply, 'reply');
  check(got === `echo: ${text}`, `reply ${JSON.stringify(String(got).slice(0, 40))}…`);
  ws.close(1000, 'done');
  const info = await within(ws.closed, 'close');
  check(info.code === 1000 && info.wasClean === true && info.initiator === 'local', `close ${JSON.stringify(info)}`);
  await within(server.close(), 'server close');
  console.log(
    `${label}: ok (port ${port}, ${ws.extensions}, ${text.length}-char message echoed, closed ${info.code} cleanly)`,
  );
}
