/**
 * A client and a server connection talking through arrays. `pump()` moves each side's output
 * to the other until nothing moves, optionally re-chunking the bytes, and records every event.
 */
import { Connection, type ClientConnectionOptions, type ServerConnectionOptions } from '../connection.ts';
import { clientConnection } from '../handshake/client-connection.ts';
import { serverConnection } from '../handshake/server-connection.ts';
import type { Command, Event, Output } from '../events.ts';
import { FakeClock } from '../session/fake-clock.ts';
import { seededRandom } from './seeded-random.ts';

/** Splits a byte string into the chunks the other side receives. */
export type Chunker = (bytes: Uint8Array) => Uint8Array[];

export interface PairOptions {
  url?: string;
  client?: ClientConnectionOptions;
  server?: ServerConnectionOptions;
  /** Answer the server's `request` event with this command (default: accept, no subprotocol). Null: leave it to the test. */
  answer?: Command | null;
  chunker?: Chunker;
  clock?: FakeClock;
}

interface Side {
  conn: Connection;
  events: Event[];
  outputs: Output[];
  eofSent: boolean;
}

export class ConnectionPair {
  readonly clock: FakeClock;
  readonly client: Connection;
  readonly server: Connection;
  /** Every event each side produced, in order. */
  readonly clientEvents: Event[] = [];
  readonly serverEvents: Event[] = [];
  /** Every output each side produced, in order. */
  readonly clientOutputs: Output[] = [];
  readonly serverOutputs: Output[] = [];
  readonly #answer: Command | null;
  readonly #chunker: Chunker | null;
  readonly #sides: [Side, Side];

  constructor(options: PairOptions = {}) {
    this.clock = options.clock ?? new FakeClock();
    this.client = clientConnection(options.url ?? 'ws://example.test/chat', {
      random: seededRandom(),
      ...options.client,
    });
    this.server = serverConnection({ ...options.server });
    this.#answer = options.answer === undefined ? { type: 'accept' } : options.answer;
    this.#chunker = options.chunker ?? null;
    this.#sides = [
      { conn: this.client, events: this.clientEvents, outputs: this.clientOutputs, eofSent: false },
      { conn: this.server, events: this.serverEvents, outputs: this.serverOutputs, eofSent: false },
    ];
  }

  /** Move bytes both ways until neither side has anything to say. Returns the new events of each side. */
  pump(maxRounds = 10_000): { client: Event[]; server: Event[] } {
    const before = [this.clientEvents.length, this.serverEvents.length];
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      const [client, server] = this.#sides;
      const directions: Array<[Side, Side]> = [
        [client, server],
        [server, client],
      ];
      for (const [from, to] of directions) {
        moved = this.#collect(from) || moved;
        for (const output of from.conn.takeOutput()) {
          moved = true;
          from.outputs.push(output);
          if (output.type === 'write') {
            if (to.eofSent || to.conn.finished) continue;
            for (const chunk of this.#chunker ? this.#chunker(output.data) : [output.data]) {
              if (!from.eofSent) to.conn.receiveData(chunk);
            }
          } else if (output.type === 'head') {
            // HTTP/2 (the `http2` option): the header list crosses as the peer's HTTP/2 stack would hand it over.
            if (!to.conn.finished) to.conn.receiveHeaders(output.headers);
          } else if (!from.eofSent) {
            from.eofSent = true;
            to.conn.receiveEof();
          }
        }
        moved = this.#collect(to) || moved;
      }
      // A timed wait that began (nextDeadline() 0) starts its clock now, as a driver's timer would.
      for (const side of this.#sides) {
        if (side.conn.nextDeadline() === 0) {
          side.conn.tick(this.clock.now());
          moved = true;
        }
      }
      if (!moved) break;
    }
    return { client: this.clientEvents.slice(before[0]), server: this.serverEvents.slice(before[1]) };
  }

  /** Pump, then advance the clock to each side's next deadline (up to `ms`), ticking both. */
  advance(ms: number): void {
    const end = this.clock.now() + ms;
    for (let i = 0; i < 1000; i++) {
      this.pump();
      const deadlines = [this.client.nextDeadline(), this.server.nextDeadline()].filter(
        (d): d is number => d !== null && d <= end,
      );
      if (deadlines.length === 0) break;
      this.clock.set(Math.max(this.clock.now(), Math.min(...deadlines)));
      this.client.tick(this.clock.now());
      this.server.tick(this.clock.now());
    }
    this.clock.set(Math.max(this.clock.now(), end));
    this.pump();
  }

  #collect(side: Side): boolean {
    let any = false;
    for (let event = side.conn.nextEvent(); event !== null; event = side.conn.nextEvent()) {
      any = true;
      side.events.push(event);
      if (event.type === 'request' && this.#answer !== null) side.conn.send(this.#answer);
    }
    return any;
  }
}
