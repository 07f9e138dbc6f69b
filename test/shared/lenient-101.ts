// 101 answers that our client must refuse (an outside review found the first two accepted), and
// one in unusual but valid case and layout that it must accept: run against each runtime's
// client by its own tests (vitest, deno test, bun test), each with a raw TCP server of that
// runtime that answers the upgrade request with `respond`.
import { computeAcceptKey } from '../../packages/codec/src/handshake/accept-key.ts';
import type { WebSocketConnection } from '../../packages/codec/src/session/index.ts';
import { assert, assertEquals } from './assert.ts';
import { within } from './wait.ts';

export interface Answer101 {
  name: string;
  /** Subprotocols the client offers. */
  protocols: string[];
  /** The response head after the status line, given the right accept value. */
  fields(accept: string): string;
  /** The HandshakeError code the client must fail with, or the subprotocol it opens with. */
  expect: { code: string } | { protocol: string };
}

export const ANSWERS: Answer101[] = [
  {
    name: 'Upgrade: h2c, websocket',
    protocols: [],
    fields: (accept) => `Upgrade: h2c, websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`,
    expect: { code: 'BAD_UPGRADE' },
  },
  {
    name: 'an empty Sec-WebSocket-Protocol after an offer',
    protocols: ['chat', 'superchat'],
    fields: (accept) =>
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol:\r\n`,
    expect: { code: 'UNEXPECTED_PROTOCOL' },
  },
  {
    name: 'a subprotocol when none was offered',
    protocols: [],
    fields: (accept) =>
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: chat\r\n`,
    expect: { code: 'UNEXPECTED_PROTOCOL' },
  },
  {
    name: 'Upgrade repeated in two fields',
    protocols: [],
    fields: (accept) =>
      `Upgrade: websocket\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`,
    expect: { code: 'BAD_UPGRADE' },
  },
  {
    name: 'valid, in odd case and layout (accepted)',
    protocols: ['chat', 'superchat'],
    fields: (accept) =>
      `uPGRADE: \tWebSocket \r\nCONNECTION: keep-alive\r\nconnection: , UPGRADE\r\nsec-websocket-accept:${accept}\r\nSEC-WEBSOCKET-PROTOCOL: superchat\r\n`,
    expect: { protocol: 'superchat' },
  },
];

/** The key in `request` (an upgrade request head as text). */
function keyOf(request: string): string {
  const match = /^sec-websocket-key:[ \t]*([^\r\n]*?)[ \t]*$/im.exec(request);
  if (match === null) throw new Error(`no Sec-WebSocket-Key in ${JSON.stringify(request)}`);
  return match[1]!;
}

/** The raw 101 `answer` gives to `request`. */
export function respond(request: string, answer: Answer101): string {
  return `HTTP/1.1 101 Switching Protocols\r\n${answer.fields(computeAcceptKey(keyOf(request)))}\r\n`;
}

/**
 * A raw server of the runtime under test, answering each connection's upgrade request with
 * `answer` (via {@link respond}), then dropping the connection when the client sends anything
 * more (its Close, once open).
 */
export type RawAnswerServer = (answer: Answer101) => Promise<{ url: string; close(): Promise<void> }>;

/** Each answer, against the runtime's `connect`. */
export async function checkAnswers(
  connect: (url: string, options: { protocols: string[] }) => Promise<WebSocketConnection>,
  serve: RawAnswerServer,
): Promise<void> {
  for (const answer of ANSWERS) {
    const server = await serve(answer);
    try {
      const outcome = await within(
        connect(server.url, { protocols: answer.protocols }).then(
          (ws) => ({ ws, error: null }),
          (error: unknown) => ({ ws: null, error: error as { name?: string; code?: string } }),
        ),
        10_000,
        `connect (${answer.name})`,
      );
      if ('code' in answer.expect) {
        assert(outcome.ws === null, `${answer.name}: the client opened, but must fail with ${answer.expect.code}`);
        assertEquals([outcome.error?.name, outcome.error?.code], ['HandshakeError', answer.expect.code], answer.name);
      } else {
        assert(
          outcome.ws !== null,
          `${answer.name}: the client failed: ${String(outcome.error?.code)} ${String(outcome.error)}`,
        );
        assertEquals(outcome.ws.protocol, answer.expect.protocol, answer.name);
        outcome.ws.terminate();
        await within(outcome.ws.closed, 10_000, `closed (${answer.name})`);
      }
    } finally {
      await server.close();
    }
  }
}
