// 14 Masking — not part of the Autobahn|Testsuite, which always masks correctly. RFC 6455 §5.1: a
// server MUST close the connection on an unmasked client frame, a client on a masked server
// frame. The fuzzer flips the mask bit its role requires, so one case serves both roles.
import type { CaseDef } from '../case.ts';
import { Close, Op } from '../frame.ts';
import { peerFails, text } from './helpers.ts';

const WRONG = 'masked the wrong way for the sender (a client frame unmasked, a server frame masked)';
const FAIL = 'The connection is failed immediately (1002/protocol error): RFC 6455 §5.1.';

export const section14: CaseDef[] = [
  {
    id: '14.1.1',
    description: `Send a small text message ${WRONG}.`,
    expectation: FAIL,
    expected: { OK: [] },
    close: peerFails(Close.protocolError),
    start(run) {
      run.sendFrame({ opcode: Op.text, payload: 'Hello, world!', mask: 'flip' });
      run.killAfter(1);
    },
  },
  {
    id: '14.1.2',
    description: `Send a small text message, then the same ${WRONG}, then a Ping.`,
    expectation: `Echo for the first message is received, then the connection is failed. The Pong is not received. ${FAIL}`,
    expected: { OK: [text('Hello, world!')], 'NON-STRICT': [] },
    nonStrictWhy: "the connection was failed before the first message's echo went out.",
    timingDependent: true,
    close: peerFails(Close.protocolError),
    start(run) {
      run.sendFrame({ opcode: Op.text, payload: 'Hello, world!' });
      run.sendFrame({ opcode: Op.text, payload: 'Hello, world!', mask: 'flip' });
      run.sendFrame({ opcode: Op.ping });
      run.killAfter(1);
    },
  },
  {
    id: '14.1.3',
    description: `Send a Ping ${WRONG}.`,
    expectation: `No Pong. ${FAIL}`,
    expected: { OK: [] },
    close: peerFails(Close.protocolError),
    start(run) {
      run.sendFrame({ opcode: Op.ping, payload: 'ping payload', mask: 'flip' });
      run.killAfter(1);
    },
  },
];
