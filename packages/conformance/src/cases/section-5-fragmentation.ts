// 5 Fragmentation: control frames cannot be fragmented; control frames may come between
// fragments; continuation frames need a message to continue, and a message's later frames must be
// continuations. Each pattern is also sent frame by frame (sync) and octet by octet.
import type { CaseDef } from '../case.ts';
import { Close, Op } from '../frame.ts';
import type { SendOptions } from '../fuzz-connection.ts';
import { NORMAL_CLOSE, peerFails, pong, text } from './helpers.ts';

const SPLITS: [suffix: string, send: SendOptions][] = [
  [' sent in one chop', {}],
  [' sent in per-frame chops', { sync: true }],
  [' sent in octet-wise chops', { chop: 1 }],
];
const NOTHING_TO_CONTINUE = 'The connection is failed immediately, since there is no message to continue.';

const fragmentedControl = (id: string, opcode: number, name: string): CaseDef => ({
  id,
  description: `Send ${name} fragmented into 2 fragments.`,
  expectation: 'Connection is failed immediately, since control message MUST NOT be fragmented.',
  expected: { OK: [] },
  close: peerFails(Close.protocolError),
  start(run) {
    run.sendFrame({ opcode, fin: false, payload: 'fragment1' });
    run.sendFrame({ opcode: Op.continuation, payload: 'fragment2' });
    run.killAfter(1);
  },
});

export const section5: CaseDef[] = [
  fragmentedControl('5.1', Op.ping, 'Ping'),
  fragmentedControl('5.2', Op.pong, 'Pong'),
  ...SPLITS.map(
    ([suffix, send], i): CaseDef => ({
      id: `5.${3 + i}`,
      description: `Send text Message fragmented into 2 fragments${i === 0 ? '' : `, ${suffix.trim()}`}.`,
      expectation: "Message is processed and echo'ed back to us.",
      expected: { OK: [text('fragment1fragment2')] },
      close: NORMAL_CLOSE,
      start(run) {
        run.sendFrame({ opcode: Op.text, fin: false, payload: 'fragment1', ...send });
        run.sendFrame({ opcode: Op.continuation, payload: 'fragment2', ...send });
        run.closeAfter(1);
      },
    }),
  ),
  ...SPLITS.map(
    ([suffix, send], i): CaseDef => ({
      id: `5.${6 + i}`,
      description: `Send text Message fragmented into 2 fragments, one ping with payload in-between${i === 0 ? '' : `, ${suffix.trim()}`}.`,
      expectation: "A pong is received, then the message is echo'ed back to us.",
      expected: { OK: [pong('ping payload'), text('fragment1fragment2')] },
      close: NORMAL_CLOSE,
      start(run) {
        run.sendFrame({ opcode: Op.text, fin: false, payload: 'fragment1', ...send });
        run.sendFrame({ opcode: Op.ping, payload: 'ping payload', ...send });
        run.sendFrame({ opcode: Op.continuation, payload: 'fragment2', ...send });
        run.closeAfter(1);
      },
    }),
  ),
  ...([true, false] as const).flatMap((fin, f) =>
    SPLITS.map(
      ([suffix, send], i): CaseDef => ({
        id: `5.${9 + f * 3 + i}`,
        description: `Send unfragmented Text Message after Continuation Frame with FIN = ${fin}, where there is nothing to continue,${suffix}.`,
        expectation: NOTHING_TO_CONTINUE,
        expected: { OK: [] },
        close: peerFails(Close.protocolError),
        start(run) {
          run.sendFrame({ opcode: Op.continuation, fin, payload: 'non-continuation payload', ...send });
          run.sendFrame({ opcode: Op.text, payload: 'Hello, world!', ...send });
          run.killAfter(1);
        },
      }),
    ),
  ),
  {
    id: '5.15',
    description:
      'Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message, all sent in one chop.',
    expectation: NOTHING_TO_CONTINUE,
    expected: { OK: [text('fragment1fragment2')], 'NON-STRICT': [] },
    nonStrictWhy: "the connection was failed before the first message's echo went out.",
    timingDependent: true,
    close: peerFails(Close.protocolError),
    start(run) {
      run.sendFrame({ opcode: Op.text, fin: false, payload: 'fragment1' });
      run.sendFrame({ opcode: Op.continuation, payload: 'fragment2' });
      run.sendFrame({ opcode: Op.continuation, fin: false, payload: 'fragment3' });
      run.sendFrame({ opcode: Op.text, payload: 'fragment4' });
      run.killAfter(1);
    },
  },
  ...([false, true] as const).map(
    (fin, i): CaseDef => ({
      id: `5.${16 + i}`,
      description: `Repeated 2x: Continuation Frame with FIN = ${fin} (where there is nothing to continue), then text Message fragmented into 2 fragments.`,
      expectation: NOTHING_TO_CONTINUE,
      expected: { OK: [] },
      close: peerFails(Close.protocolError),
      start(run) {
        for (let n = 0; n < 2; n++) {
          run.sendFrame({ opcode: Op.continuation, fin, payload: 'fragment1' });
          run.sendFrame({ opcode: Op.text, fin: false, payload: 'fragment2' });
          run.sendFrame({ opcode: Op.continuation, payload: 'fragment3' });
        }
        run.killAfter(1);
      },
    }),
  ),
  {
    id: '5.18',
    description:
      'Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.',
    expectation:
      'The connection is failed immediately, since all data frames after the initial data frame must have opcode 0.',
    expected: { OK: [] },
    close: peerFails(Close.protocolError),
    start(run) {
      run.sendFrame({ opcode: Op.text, fin: false, payload: 'fragment1' });
      run.sendFrame({ opcode: Op.text, payload: 'fragment2' });
      run.killAfter(1);
    },
  },
  ...([false, true] as const).map((sync, i): CaseDef => {
    const fragments = ['fragment1', 'fragment2', 'fragment3', 'fragment4', 'fragment5'] as const;
    const pings = ['pongme 1!', 'pongme 2!'] as const;
    return {
      id: `5.${19 + i}`,
      description: sync
        ? 'Same as Case 5.19, but send all frames with SYNC = True. Note, this does not change the octets sent in any way, only how the stream is chopped up on the wire.'
        : 'A fragmented text message is sent in multiple frames. After sending the first 2 frames of the text message, a Ping is sent. Then we wait 1s, then we send 2 more text fragments, another Ping and then the final text fragment. Everything is legal.',
      expectation: sync
        ? 'Same as Case 5.19. Implementations must be agnostic to how octet stream is chopped up on wire (must be TCP clean).'
        : "The peer immediately answers the first Ping before it has received the last text message fragment. The peer pong's back the Ping's payload exactly, and echo's the payload of the fragmented message back to us.",
      expected: { OK: [pong(pings[0]), pong(pings[1]), text(fragments.join(''))] },
      close: NORMAL_CLOSE,
      start(run) {
        run.sendFrame({ opcode: Op.text, fin: false, payload: fragments[0], sync });
        run.sendFrame({ opcode: Op.continuation, fin: false, payload: fragments[1], sync });
        run.sendFrame({ opcode: Op.ping, payload: pings[0], sync });
        run.continueLater(1, () => {
          run.sendFrame({ opcode: Op.continuation, fin: false, payload: fragments[2], sync });
          run.sendFrame({ opcode: Op.continuation, fin: false, payload: fragments[3], sync });
          run.sendFrame({ opcode: Op.ping, payload: pings[1], sync });
          run.sendFrame({ opcode: Op.continuation, payload: fragments[4], sync });
          run.closeAfter(1);
        });
      },
    };
  }),
];
