// 10 Misc: a message split by the sender into many frames (auto-fragmentation) is reassembled.
import { repeatTo } from '../bytes.ts';
import type { CaseDef } from '../case.ts';
import { Op } from '../frame.ts';
import { NORMAL_CLOSE, text } from './helpers.ts';

const PAYLOAD = repeatTo('*', 65536);
const FRAGMENT = 1300;

export const section10: CaseDef[] = [
  {
    id: '10.1.1',
    description: `Send text message with payload of length 65536 auto-fragmented with autoFragmentSize = ${FRAGMENT}.`,
    expectation:
      "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). Clean close with normal code.",
    expected: { OK: [text(PAYLOAD)] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendMessage(false, PAYLOAD, FRAGMENT);
      run.killAfter(10);
    },
    finish(run, verdict) {
      const continuations = Math.ceil(PAYLOAD.length / FRAGMENT) - 1;
      const got = [run.conn.txFrames.get(Op.text) ?? 0, run.conn.txFrames.get(Op.continuation) ?? 0];
      if (got[0] !== 1 || got[1] !== continuations) {
        verdict.behavior = 'FAILED';
        verdict.result = `Frames transmitted (text ${got[0]}, continuation ${got[1]}) do not match what we expected (1, ${continuations}).`;
      }
    },
  },
];
