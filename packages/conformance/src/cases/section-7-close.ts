// 7 Close handling: frames after our close are ignored (7.1), close payload lengths (7.3), an
// invalid UTF-8 reason (7.5), valid (7.7) and invalid (7.9) close codes, codes outside the range
// (7.13, informational). In this section a wrong close code from the peer fails the case.
import { hex, repeatTo } from '../bytes.ts';
import type { CaseDef, ExpectedClose } from '../case.ts';
import { Close, Op } from '../frame.ts';
import { NORMAL_CLOSE, text } from './helpers.ts';

const KOSME_SURROGATE_EDITED = hex('cebae1bdb9cf83cebcceb5eda080656469746564');
/** The peer must answer our close with 1002 (or drop TCP); clean is not required. */
const answersProtocolError: ExpectedClose = { closedByMe: true, codes: [Close.protocolError], requireClean: false };

const closeCase = (def: Omit<CaseDef, 'wrongCodeIsFatal' | 'suppressClose'>): CaseDef => ({
  ...def,
  wrongCodeIsFatal: true,
  suppressClose: true,
});

const basic: CaseDef[] = [
  {
    ...closeCase({
      id: '7.1.1',
      description: 'Send a message followed by a close frame',
      expectation: 'Echoed message followed by clean close with normal code.',
      expected: { OK: [text('Hello World!')] },
      close: NORMAL_CLOSE,
      start(run) {
        run.sendFrame({ opcode: Op.text, payload: 'Hello World!' });
        run.killAfter(1);
      },
    }),
    suppressClose: false,
  },
  closeCase({
    id: '7.1.2',
    description: 'Send two close frames',
    expectation: 'Clean close with normal code. Second close frame ignored.',
    expected: { OK: [] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendClose(Close.normal);
      run.sendFrame({ opcode: Op.close });
      run.killAfter(1);
    },
  }),
  closeCase({
    id: '7.1.3',
    description: 'Send a ping after close message',
    expectation: 'Clean close with normal code, no pong.',
    expected: { OK: [] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendClose(Close.normal);
      run.sendFrame({ opcode: Op.ping });
      run.killAfter(1);
    },
  }),
  closeCase({
    id: '7.1.4',
    description: 'Send text message after sending a close frame.',
    expectation: 'Clean close with normal code. Text message ignored.',
    expected: { OK: [] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendClose(Close.normal);
      run.sendFrame({ opcode: Op.text, payload: 'Hello World!' });
      run.killAfter(1);
    },
  }),
  closeCase({
    id: '7.1.5',
    description: 'Send message fragment1 followed by close then fragment',
    expectation: 'Clean close with normal code.',
    expected: { OK: [] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendFrame({ opcode: Op.text, fin: false, payload: 'fragment1' });
      run.sendClose(Close.normal);
      run.sendFrame({ opcode: Op.continuation, payload: 'fragment2' });
      run.killAfter(1);
    },
  }),
  closeCase({
    id: '7.1.6',
    description: 'Send 256K message followed by close then a ping',
    expectation:
      'Case outcome depends on implementation defined close behavior. Message and close frame are sent back to back. If the close frame is processed before the text message write is complete (as can happen in asynchronous processing models) the close frame is processed first and the text message may not be received or may only be partially recieved.',
    expected: { OK: [text('Hello World!')], 'NON-STRICT': [] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendFrame({ opcode: Op.text, payload: 'BAsd7&jh23', payloadLength: 256 * 1024 });
      run.sendFrame({ opcode: Op.text, payload: 'Hello World!' });
      run.sendClose(Close.normal);
      run.sendFrame({ opcode: Op.ping });
      run.killAfter(1);
    },
    finish(run, verdict) {
      const messages = run.received.filter((e) => e.type === 'message').length;
      verdict.result =
        messages === 2
          ? 'Both messages were processed before close.'
          : messages > 0
            ? 'Part of the messages were processed before close.'
            : 'Close was processed before the messages could be returned.';
      verdict.behavior = 'INFORMATIONAL';
      verdict.behaviorClose = 'INFORMATIONAL';
    },
  }),
];

const payloadLength: CaseDef[] = [
  closeCase({
    id: '7.3.1',
    description: 'Send a close frame with payload length 0 (no close code, no close reason)',
    expectation: 'Clean close with normal code.',
    expected: { OK: [] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendClose();
      run.killAfter(1);
    },
  }),
  closeCase({
    id: '7.3.2',
    description: 'Send a close frame with payload length 1',
    expectation: 'Clean close with protocol error or drop TCP.',
    expected: { OK: [] },
    close: answersProtocolError,
    start(run) {
      run.sendClose(undefined, 'a');
      run.killAfter(1);
    },
  }),
  ...([undefined, 'Hello World!', '*'.repeat(123)] as const).map((reason, i) =>
    closeCase({
      id: `7.3.${3 + i}`,
      description: [
        'Send a close frame with payload length 2 (regular close with a code)',
        'Send a close frame with close code and close reason',
        'Send a close frame with close code and close reason of maximum length (123)',
      ][i]!,
      expectation: 'Clean close with normal code.',
      expected: { OK: [] },
      close: NORMAL_CLOSE,
      start(run) {
        run.sendClose(Close.normal, reason);
        run.killAfter(1);
      },
    }),
  ),
  closeCase({
    id: '7.3.6',
    description:
      'Send a close frame with close code and close reason which is too long (124) - total frame payload 126 octets',
    expectation: 'Clean close with protocol error code or dropped TCP connection.',
    expected: { OK: [] },
    close: answersProtocolError,
    start(run) {
      run.sendClose(Close.normal, repeatTo('*', 124));
      run.killAfter(1);
    },
  }),
  closeCase({
    id: '7.5.1',
    description: 'Send a close frame with invalid UTF8 payload',
    expectation: 'Clean close with protocol error or invalid utf8 code or dropped TCP.',
    expected: { OK: [] },
    close: { closedByMe: true, codes: [Close.protocolError, Close.invalidPayload], requireClean: false },
    start(run) {
      run.sendClose(Close.normal, KOSME_SURROGATE_EDITED);
      run.killAfter(1);
    },
  }),
];

const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
/** Invalid on the wire (RFC 6455 §7.4; 1012–1015 were registered since and are not tested). */
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];

const codes: CaseDef[] = [
  ...VALID_CODES.map((code, i) =>
    closeCase({
      id: `7.7.${i + 1}`,
      description: `Send close with valid close code ${code}`,
      expectation: 'Clean close with normal or echoed code',
      expected: { OK: [] },
      close: { closedByMe: true, codes: [Close.normal, code], requireClean: true },
      start(run) {
        run.sendClose(code);
        run.killAfter(1);
      },
    }),
  ),
  ...INVALID_CODES.map((code, i) =>
    closeCase({
      id: `7.9.${i + 1}`,
      description: `Send close with invalid close code ${code}`,
      expectation: 'Clean close with protocol error code or drop TCP',
      expected: { OK: [] },
      close: answersProtocolError,
      start(run) {
        run.sendClose(code);
        run.killAfter(1);
      },
    }),
  ),
  ...[5000, 65535].map((code, i) =>
    closeCase({
      id: `7.13.${i + 1}`,
      description: `Send close with close code ${code}`,
      expectation: 'Actual events are undefined by the spec.',
      expected: { OK: [] },
      close: { closedByMe: true, codes: [Close.normal, code, Close.protocolError], requireClean: false },
      start(run) {
        run.sendClose(code);
        run.killAfter(1);
      },
      finish(_run, verdict) {
        verdict.result = `Actual events are undefined by the spec (${verdict.resultClose}).`;
        verdict.behavior = 'INFORMATIONAL';
        verdict.behaviorClose = 'INFORMATIONAL';
      },
    }),
  ),
];

export const section7: CaseDef[] = [...basic, ...payloadLength, ...codes];
