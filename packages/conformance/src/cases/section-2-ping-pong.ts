// 2 Pings/Pongs: pong payload echoes the ping's, control payloads up to 125 bytes, unsolicited
// pongs are ignored, every ping answered.
import type { CaseDef } from '../case.ts';
import { Close, Op } from '../frame.ts';
import { hex } from '../bytes.ts';
import { NORMAL_CLOSE, peerFails, pong } from './helpers.ts';

const fe = (n: number): Uint8Array => new Uint8Array(n).fill(0xfe);

function pingCase(
  id: string,
  description: string,
  payload: Uint8Array | string,
  options: { chop?: number; wait?: number } = {},
): CaseDef {
  return {
    id,
    description,
    expectation: 'Pong (with payload echoed) is sent in reply to Ping. Clean close with normal code.',
    expected: { OK: [pong(payload)] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendFrame({ opcode: Op.ping, payload, ...(options.chop ? { chop: options.chop } : {}) });
      run.closeAfter(options.wait ?? 1);
    },
  };
}

function tenPings(id: string, chop?: number): CaseDef {
  const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
  return {
    id,
    description: `Send 10 Pings with payload.${chop ? ' Send out octets in octet-wise chops.' : ''}`,
    expectation:
      'Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. but we check for this behaviour anyway. Clean close with normal code.',
    expected: { OK: payloads.map((p) => pong(p)) },
    close: NORMAL_CLOSE,
    start(run) {
      for (const payload of payloads) run.sendFrame({ opcode: Op.ping, payload, ...(chop ? { chop } : {}) });
      run.closeAfter(3);
    },
  };
}

export const section2: CaseDef[] = [
  pingCase('2.1', 'Send ping without payload.', ''),
  pingCase('2.2', 'Send ping with small text payload.', 'Hello, world!'),
  pingCase('2.3', 'Send ping with small binary (non UTF-8) payload.', hex('00ff fefd fcfb 00ff')),
  pingCase('2.4', 'Send ping with binary payload of 125 octets.', fe(125)),
  {
    id: '2.5',
    description: 'Send ping with binary payload of 126 octets.',
    expectation:
      'Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets.',
    expected: { OK: [] },
    close: peerFails(Close.protocolError),
    start(run) {
      run.sendFrame({ opcode: Op.ping, payload: fe(126) });
      run.killAfter(1);
    },
  },
  pingCase('2.6', 'Send ping with binary payload of 125 octets, send in octet-wise chops.', fe(125), {
    chop: 1,
    wait: 2,
  }),
  ...(['', 'unsolicited pong payload'] as const).map(
    (payload, i): CaseDef => ({
      id: `2.${7 + i}`,
      description: `Send unsolicited pong ${payload ? 'with' : 'without'} payload. Verify nothing is received. Clean close with normal code.`,
      expectation: 'Nothing.',
      expected: { OK: [] },
      close: NORMAL_CLOSE,
      start(run) {
        run.sendFrame({ opcode: Op.pong, payload });
        run.sendClose(Close.normal);
        run.closeAfter(1);
      },
    }),
  ),
  {
    id: '2.9',
    description: 'Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.',
    expectation:
      "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. Clean close with normal code.",
    expected: { OK: [pong('ping payload')] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendFrame({ opcode: Op.pong, payload: 'unsolicited pong payload' });
      run.sendFrame({ opcode: Op.ping, payload: 'ping payload' });
      run.closeAfter(1);
    },
  },
  tenPings('2.10'),
  tenPings('2.11', 1),
];
