// 1 Framing: text (1.1) and binary (1.2) messages across the payload length encodings
// (7-bit, 16-bit, 64-bit), the last one written in 997-byte pieces.
import { repeatTo } from '../bytes.ts';
import type { CaseDef } from '../case.ts';
import { Op } from '../frame.ts';
import { NORMAL_CLOSE, binary, text } from './helpers.ts';

const LENGTHS: [length: number, chop?: number][] = [[0], [125], [126], [127], [128], [65535], [65536], [65536, 997]];

function framingCase(sub: 1 | 2, index: number, length: number, chop?: number): CaseDef {
  const isBinary = sub === 2;
  const data = isBinary ? new Uint8Array(length).fill(0xfe) : repeatTo('*', length);
  const kind = isBinary ? 'binary' : 'text';
  return {
    id: `1.${sub}.${index}`,
    description: `Send ${kind} message with payload of length ${length}.${chop ? ` Sent out data in chops of ${chop} octets.` : ''}`,
    expectation: `Receive echo'ed ${kind} message (with payload as sent). Clean close with normal code.`,
    expected: { OK: [isBinary ? binary(data) : text(data)] },
    close: NORMAL_CLOSE,
    start(run) {
      run.sendFrame({ opcode: isBinary ? Op.binary : Op.text, payload: data, ...(chop ? { chop } : {}) });
      run.killAfter(length > 128 ? 10 : 1);
    },
  };
}

export const section1: CaseDef[] = ([1, 2] as const).flatMap((sub) =>
  LENGTHS.map(([length, chop], i) => framingCase(sub, i + 1, length, chop)),
);
