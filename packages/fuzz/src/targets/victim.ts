/**
 * The connection under test: every input to it is recorded (when asked) and every event and
 * output it produces is checked as it appears. Shared by the connection targets and replay.
 */
import {
  Connection,
  type ClientConnectionOptions,
  type ServerConnectionOptions,
} from '../../../codec/src/connection.ts';
import { clientConnection } from '../../../codec/src/client.ts';
import { serverConnection } from '../../../codec/src/server.ts';
import type { Command, Event, Output } from '../../../codec/src/events.ts';
import { WebSocketUsageError } from '../../../codec/src/errors.ts';
import { pakoPermessageDeflate as permessageDeflate } from '../../../codec/src/extensions/pako-backend.ts';
import { seededRandom } from '../../../codec/src/testing/seeded-random.ts';
import { decodeUtf8, encodeUtf8 } from '../../../codec/src/utf8.ts';
import { concatBytes } from '../generators.ts';
import { commandToJson, toHex, type Step, type VictimOptions } from './case.ts';
import type { Message } from './message.ts';
import { check } from './oracle.ts';

export function makeConnection(options: VictimOptions): Connection {
  const common = {
    extensions: options.deflate ? [permessageDeflate(options.deflate)] : [],
    assembleMessages: options.assembleMessages ?? true,
    autoPong: options.autoPong ?? true,
    limits: options.limits ?? {},
    timeouts: options.timeouts ?? {},
    random: seededRandom(options.randomSeed ?? 1),
  };
  if (options.role === 'server') {
    return serverConnection({ ...common, origins: options.origins ?? null } satisfies ServerConnectionOptions);
  }
  return clientConnection(options.url ?? 'ws://example.test/chat', {
    ...common,
    protocols: options.protocols ?? [],
  } satisfies ClientConnectionOptions);
}

/**
 * One connection under test: every input goes through here, so it is recorded (when asked)
 * and every event and output is checked as it appears.
 */
export class Victim {
  readonly conn: Connection;
  readonly options: VictimOptions;
  readonly steps: Step[] | null;
  readonly events: Event[] = [];
  readonly messages: Message[] = [];
  /** Bytes written, not yet taken by the peer. */
  readonly written: Uint8Array[] = [];
  now = 0;
  eof = false;
  closed = false;
  shutdown = false;
  destroyed = false;
  errorCode: string | null = null;
  #streaming: Uint8Array[] | null = null;
  #streamingKind: 'text' | 'binary' = 'binary';
  readonly #maxMessage: number;

  constructor(options: VictimOptions, record: boolean) {
    this.options = options;
    this.steps = record ? [] : null;
    this.conn = makeConnection(options);
    this.#maxMessage = this.conn.limits.maxMessageSize;
    this.drain();
  }

  data(bytes: Uint8Array): void {
    if (this.eof || bytes.length === 0) return;
    this.steps?.push({ op: 'data', hex: toHex(bytes) });
    this.conn.receiveData(bytes);
    this.drain();
  }

  receiveEof(): void {
    if (this.eof) return;
    this.eof = true;
    this.steps?.push({ op: 'eof' });
    this.conn.receiveEof();
    this.drain();
  }

  tick(at: number): void {
    if (at < this.now) at = this.now;
    this.now = at;
    this.steps?.push({ op: 'tick', at });
    this.conn.tick(at);
    this.drain();
  }

  /** A command; returns the usage error if the codec refused it (anything else thrown is a failure). */
  send(command: Command): WebSocketUsageError | null {
    this.steps?.push({ op: 'send', command: commandToJson(command) });
    try {
      this.conn.send(command);
    } catch (error) {
      if (error instanceof WebSocketUsageError) {
        this.drain();
        return error;
      }
      throw error;
    }
    this.drain();
    return null;
  }

  drain(): void {
    // As a driver does: a wait that began (nextDeadline() 0) starts its clock now.
    if (this.conn.nextDeadline() === 0) this.conn.tick(this.now);
    for (let event = this.conn.nextEvent(); event !== null; event = this.conn.nextEvent()) this.#onEvent(event);
    for (const output of this.conn.takeOutput()) this.#onOutput(output);
    if (this.conn.nextDeadline() === 0) this.conn.tick(this.now);
  }

  #onEvent(event: Event): void {
    check(!this.closed, () => `event ${event.type} after closed`);
    this.events.push(event);
    switch (event.type) {
      case 'closed':
        this.closed = true;
        check(this.conn.state === 'closed', () => `closed event in state ${this.conn.state}`);
        return;
      case 'protocol-error':
        check(this.errorCode === null, () => `second protocol-error ${event.code} after ${this.errorCode}`);
        this.errorCode = event.code;
        return;
      case 'text':
        check(event.data.length <= this.#maxMessage, 'text message over maxMessageSize');
        this.messages.push({ kind: 'text', data: encodeUtf8(event.data) });
        return;
      case 'binary':
        check(event.data.length <= this.#maxMessage, 'binary message over maxMessageSize');
        this.messages.push({ kind: 'binary', data: event.data.slice() });
        return;
      case 'fragment': {
        check(this.options.assembleMessages === false, 'fragment event while assembling messages');
        check(event.first === (this.#streaming === null), () => `fragment first=${event.first} out of order`);
        if (event.first) {
          this.#streaming = [];
          this.#streamingKind = event.kind;
        }
        check(event.kind === this.#streamingKind, 'fragment kind changed inside a message');
        this.#streaming!.push(event.data.slice());
        if (event.fin) {
          const data = concatBytes(this.#streaming!);
          check(data.length <= this.#maxMessage, 'streamed message over maxMessageSize');
          if (event.kind === 'text') decodeUtf8(data); // validated incrementally: must decode
          this.messages.push({ kind: event.kind, data });
          this.#streaming = null;
        }
        return;
      }
      default:
        return;
    }
  }

  #onOutput(output: Output): void {
    check(!this.destroyed, () => `${output.type} output after destroy`);
    if (output.type === 'write') {
      check(!this.shutdown, 'write output after shutdown');
      check(output.data.length > 0, 'empty write');
      this.written.push(output.data);
    } else if (output.type === 'shutdown') {
      check(!this.shutdown, 'second shutdown');
      this.shutdown = true;
    } else {
      this.destroyed = true;
    }
  }

  takeWritten(): Uint8Array {
    const bytes = concatBytes(this.written);
    this.written.length = 0;
    return bytes;
  }

  /** EOF, then a tick far in the future: the connection must be finished and quiet. */
  finish(): void {
    this.receiveEof();
    this.tick(this.now + 1e12);
    this.tick(this.now + 1e12);
    check(this.closed, () => `no closed event after EOF and every deadline (state ${this.conn.state})`);
    check(this.events.at(-1)?.type === 'closed', 'closed is not the last event');
    check(this.conn.finished, () => `not finished after EOF and every deadline (state ${this.conn.state})`);
    check(this.conn.nextDeadline() === null, 'a deadline is left after the connection finished');
    check(this.conn.closeInfo !== null, 'no closeInfo after closed');
  }
}
