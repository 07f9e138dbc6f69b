// Our Bun client against a raw TCP server (Bun.listen) that answers the upgrade with a 101 our
// client must refuse (`Upgrade: h2c, websocket`, an empty `Sec-WebSocket-Protocol` after an
// offer, …) or accept (valid, in odd case and layout): the scenarios of test/shared/lenient-101.ts.
import { describe, it } from 'bun:test';
import { connect } from '../src/index.ts';
import { checkAnswers, respond, type RawAnswerServer } from '../../../test/shared/lenient-101.ts';
import { HOST } from './helpers.ts';

type State = { head: string };

/** A Bun.listen server answering every upgrade request with `answer`; drops a client that says more. */
const serve: RawAnswerServer = async (answer) => {
  const sockets = new Set<Bun.Socket<State>>();
  const listener = Bun.listen<State>({
    hostname: HOST,
    port: 0,
    socket: {
      open(socket) {
        socket.data = { head: '' };
        sockets.add(socket);
      },
      data(socket, chunk) {
        if (socket.data.head.includes('\r\n\r\n')) return void socket.end(); // said more after our answer
        socket.data.head += Buffer.from(chunk).toString('latin1');
        if (socket.data.head.includes('\r\n\r\n')) socket.write(respond(socket.data.head, answer));
      },
      close(socket) {
        sockets.delete(socket);
      },
      error() {},
    },
  });
  return {
    url: `ws://${HOST}:${listener.port}/`,
    close: async () => {
      for (const socket of sockets) socket.terminate();
      listener.stop(true);
    },
  };
};

describe('@ws/bun client: the checks of a 101', () => {
  it('fails on Upgrade other than exactly websocket and on a subprotocol that is empty or not offered; accepts odd case and layout', async () => {
    await checkAnswers(connect, serve);
  });
});
