// 3 Reserved bits: with no extension negotiated, any RSV bit fails the connection (1002),
// including after a valid message and however the bytes are split.
import type { CaseDef } from '../case.ts';
import { hex } from '../bytes.ts';
import { Close, Op } from '../frame.ts';
import type { SendOptions } from '../fuzz-connection.ts';
import { peerFails, text } from './helpers.ts';

const FAIL =
  'The connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated.';
const AFTER_ECHO =
  'Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.';

function singleFrame(
  id: string,
  description: string,
  opcode: number,
  rsv: number,
  payload: string | Uint8Array,
): CaseDef {
  return {
    id,
    description,
    expectation: FAIL,
    expected: { OK: [] },
    close: peerFails(Close.protocolError),
    start(run) {
      run.sendFrame({ opcode, payload, rsv });
      run.killAfter(1);
    },
  };
}

function afterValidMessage(id: string, description: string, rsv: number, send: SendOptions): CaseDef {
  const payload = 'Hello, world!';
  return {
    id,
    description,
    expectation: AFTER_ECHO,
    expected: { OK: [text(payload)], 'NON-STRICT': [] },
    nonStrictWhy: "the connection was failed before the first message's echo went out.",
    timingDependent: true,
    close: peerFails(Close.protocolError),
    start(run) {
      run.sendFrame({ opcode: Op.text, payload, ...send });
      run.sendFrame({ opcode: Op.text, payload, rsv, ...send });
      run.sendFrame({ opcode: Op.ping, ...send });
      run.killAfter(1);
    },
  };
}

export const section3: CaseDef[] = [
  singleFrame('3.1', 'Send small text message with RSV = 1.', Op.text, 1, 'Hello, world!'),
  afterValidMessage('3.2', 'Send small text message, then send again with RSV = 2, then send Ping.', 2, {}),
  afterValidMessage(
    '3.3',
    'Send small text message, then send again with RSV = 3, then send Ping. Octets are sent in frame-wise chops.',
    3,
    { sync: true },
  ),
  afterValidMessage(
    '3.4',
    'Send small text message, then send again with RSV = 4, then send Ping. Octets are sent in octet-wise chops.',
    4,
    { chop: 1 },
  ),
  singleFrame('3.5', 'Send small binary message with RSV = 5.', Op.binary, 5, hex('00ff fefd fcfb 00ff')),
  singleFrame('3.6', 'Send Ping with RSV = 6.', Op.ping, 6, 'Hello, world!'),
  singleFrame('3.7', 'Send Close with RSV = 7.', Op.close, 7, ''),
];
