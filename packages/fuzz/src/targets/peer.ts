/**
 * The conversation's other side: a well-behaved codec in the opposite role, and the commands
 * such a peer may legitimately send (which the victim also sends when it is its turn).
 */
import type { Connection } from '../../../codec/src/connection.ts';
import type { Command } from '../../../codec/src/events.ts';
import { encodeUtf8 } from '../../../codec/src/utf8.ts';
import { concatBytes } from '../generators.ts';
import type { Rng } from '../rng.ts';
import type { Message } from './message.ts';

function randomText(rng: Rng, n: number): string {
  switch (rng.int(4)) {
    case 0:
      return 'x'.repeat(n);
    case 1:
      return 'ü€😀a'.repeat(Math.ceil(n / 5)).slice(0, n);
    case 2: {
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0xd800));
      return s;
    }
    default:
      return '{"k":' + '1,'.repeat(n >> 1) + '0}';
  }
}

/** What a peer may legitimately send: messages, fragments, pings, pongs, a close. Null if it cannot. */
export function peerCommands(rng: Rng): Command[] {
  const compress = rng.pick([undefined, undefined, true, false]);
  switch (rng.int(10)) {
    case 0:
    case 1:
    case 2:
      return [{ type: 'text', data: randomText(rng, rng.size()), compress }];
    case 3:
    case 4:
      return [{ type: 'binary', data: rng.bytes(rng.size(rng.chance(0.02) ? 200_000 : 300)), compress }];
    case 5: {
      const kind = rng.chance(0.5) ? 'text' : 'binary';
      const n = rng.range(1, 6);
      const out: Command[] = [];
      for (let i = 0; i < n; i++) {
        const data = kind === 'text' ? encodeUtf8(randomText(rng, rng.size(40))) : rng.bytes(rng.size(40));
        out.push({ type: 'fragment', kind, data, fin: i === n - 1, compress });
        if (rng.chance(0.2)) out.push({ type: 'ping', data: rng.bytes(rng.int(20)) });
      }
      return out;
    }
    case 6:
      return [{ type: 'ping', data: rng.bytes(rng.int(126)) }];
    case 7:
      return [{ type: 'pong', data: rng.bytes(rng.int(126)) }];
    case 8:
      return rng.chance(0.3)
        ? [{ type: 'close', code: rng.pick([1000, 1001, 3000, 4999]), reason: rng.chance(0.5) ? 'bye' : '' }]
        : [{ type: 'text', data: '' }];
    default:
      return [{ type: 'binary', data: new Uint8Array(0) }];
  }
}

/** The peer: a well-behaved codec in the other role, whose events are checked too. */
export class Peer {
  readonly conn: Connection;
  readonly sent: Message[] = [];
  readonly received: Message[] = [];
  error: string | null = null;
  eof = false;
  #sending: 'text' | 'binary' | null = null;
  #parts: Uint8Array[] = [];

  constructor(conn: Connection) {
    this.conn = conn;
  }

  /** Send commands while the peer may; record the messages it sent whole. */
  send(commands: Command[]): void {
    for (const command of commands) {
      if (!this.conn.canSend) return;
      if (
        this.#sending !== null &&
        command.type !== 'fragment' &&
        command.type !== 'ping' &&
        command.type !== 'pong' &&
        command.type !== 'close'
      )
        continue;
      this.conn.send(command);
      if (command.type === 'text') this.sent.push({ kind: 'text', data: encodeUtf8(command.data) });
      else if (command.type === 'binary') this.sent.push({ kind: 'binary', data: command.data });
      else if (command.type === 'fragment') {
        this.#sending = command.kind;
        this.#parts.push(command.data);
        if (command.fin) {
          this.sent.push({ kind: command.kind, data: concatBytes(this.#parts) });
          this.#parts = [];
          this.#sending = null;
        }
      }
    }
  }

  drain(): void {
    for (let event = this.conn.nextEvent(); event !== null; event = this.conn.nextEvent()) {
      if (event.type === 'protocol-error') this.error = `${event.code}: ${event.message}`;
      else if (event.type === 'text') this.received.push({ kind: 'text', data: encodeUtf8(event.data) });
      else if (event.type === 'binary') this.received.push({ kind: 'binary', data: event.data.slice() });
      else if (event.type === 'request')
        this.conn.send({ type: 'accept', protocol: event.request.protocols[0] ?? null });
    }
  }
}
