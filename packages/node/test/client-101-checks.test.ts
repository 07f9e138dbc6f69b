// Our Node client against a raw TCP server that answers the upgrade with a 101 our client must
// refuse (`Upgrade: h2c, websocket`, an empty `Sec-WebSocket-Protocol` after an offer, …) or
// accept (valid, in odd case and layout): the scenarios of test/shared/lenient-101.ts.
import net from 'node:net';
import { describe, it } from 'vitest';
import { connect } from '../src/index.ts';
import { checkAnswers, respond, type RawAnswerServer } from '../../../test/shared/lenient-101.ts';
import { HOST } from './helpers.ts';

/** A node:net server answering every upgrade request with `answer`; drops a client that says more. */
const serve: RawAnswerServer = async (answer) => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // the client may reset
    let head = '';
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (answered) return void socket.destroy();
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      answered = true;
      socket.write(respond(head, answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `ws://${HOST}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};

describe('@ws/node client: the checks of a 101', () => {
  it('fails on Upgrade other than exactly websocket and on a subprotocol that is empty or not offered; accepts odd case and layout', async () => {
    await checkAnswers(connect, serve);
  });
});
