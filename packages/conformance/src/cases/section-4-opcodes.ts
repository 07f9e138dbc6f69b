// 4 Opcodes: reserved non-control (3–7) and control (11–15) opcodes fail the connection (1002).
import type { CaseDef } from '../case.ts';
import { Close, Op } from '../frame.ts';
import { peerFails, text } from './helpers.ts';

function opcodeCases(sub: 1 | 2, first: number): CaseDef[] {
  const kind = sub === 1 ? 'non-control' : 'control';
  const hello = 'Hello, world!';
  const defs: CaseDef[] = [];
  for (let i = 0; i < 5; i++) {
    const opcode = first + i;
    const withPayload = i === 1 || i >= 3;
    const afterMessage = i >= 2;
    const chop = i === 4 ? 1 : 0;
    const payload = withPayload ? (afterMessage ? hello : 'reserved opcode payload') : '';
    defs.push({
      id: `4.${sub}.${i + 1}`,
      description: afterMessage
        ? `Send small text message, then send frame with reserved ${kind} Opcode = ${opcode}${withPayload ? ' and non-empty payload' : ''}, then send Ping.${chop ? ' Octets are sent in octet-wise chops.' : ''}`
        : `Send frame with reserved ${kind} Opcode = ${opcode}${withPayload ? ' and non-empty payload' : ''}.`,
      expectation: afterMessage
        ? 'Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.'
        : 'The connection is failed immediately.',
      expected: afterMessage ? { OK: [text(hello)], 'NON-STRICT': [] } : { OK: [] },
      ...(afterMessage
        ? { nonStrictWhy: "the connection was failed before the first message's echo went out.", timingDependent: true }
        : {}),
      close: peerFails(Close.protocolError),
      start(run) {
        const send = chop ? { chop } : {};
        if (afterMessage) run.sendFrame({ opcode: Op.text, payload: hello, ...send });
        run.sendFrame({ opcode, payload, ...send });
        if (afterMessage) run.sendFrame({ opcode: Op.ping, ...send });
        run.killAfter(1);
      },
    });
  }
  return defs;
}

export const section4: CaseDef[] = [...opcodeCases(1, 3), ...opcodeCases(2, 11)];
