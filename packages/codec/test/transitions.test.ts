// The transition table checked against the code, h11-style: for every state a connection can be in
// and every input the table names, drive a real connection into that state, apply the input through
// the public API, and compare the state it lands in with the table. Inputs the table does not allow
// in a state must leave the connection where the table says nothing moves it (or not happen at all).
// A client reading a refusal's body is in the table's own state `refusal-body`, reported as
// `handshake`: seen from outside as a client in its handshake with the server's answer at hand.
import { describe, expect, it } from 'vitest';
import { Connection, transitionTable } from '../src/index.ts';
import { clientConnection } from '../src/client.ts';
import { serverConnection } from '../src/server.ts';
import { FakeClock, seededRandom } from '../src/testing/index.ts';
import type { TableState, TransitionInput } from '../src/transitions.ts';
import { REQUEST, ascii, clientFrame, serverFrame } from './helpers/frames.ts';
import { HttpServerPhase } from '../src/http.ts';

/** Every input of the table's type: a new one that this list lacks fails to compile. */
const ALL_INPUTS: Record<TransitionInput, true> = {
  request: true,
  accept: true,
  reject: true,
  response: true,
  refusal: true,
  'send-close': true,
  'recv-close': true,
  abort: true,
  fail: true,
  eof: true,
  timeout: true,
  served: true,
};
const INPUTS = Object.keys(ALL_INPUTS) as TransitionInput[];
const STATES: readonly TableState[] = ['handshake', 'awaiting-accept', 'refusal-body', 'open', 'closing', 'closed'];
const URL = 'ws://server.example.com/chat';
/** A refusal whose body comes in two parts: its head and the first 2 bytes, then the last 3. */
const REFUSAL_HEAD = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nno';
const REFUSAL_REST = ' go';

/** The table state `conn` is in, as seen through the public API. */
function phase(conn: Connection): TableState {
  const state = conn.state;
  return state === 'handshake' && conn.role === 'client' && conn.response !== null ? 'refusal-body' : state;
}

interface Subject {
  conn: Connection;
  clock: FakeClock;
  role: 'client' | 'server';
}

function drain(conn: Connection): void {
  conn.takeEvents();
  conn.takeOutput();
}

/** The 101 a server would answer the client's request with (built by a real server connection). */
function answer(client: Connection): Uint8Array {
  const server = serverConnection();
  const request = client.takeOutput().filter((o) => o.type === 'write');
  for (const o of request) server.receiveData(o.data);
  server.takeEvents();
  server.send({ type: 'accept' });
  const out = server.takeOutput().filter((o) => o.type === 'write');
  return Uint8Array.from(out.flatMap((o) => [...o.data]));
}

/** A connection of `role` driven into `state` through the public API, or null where the role never has it. */
function reach(role: 'client' | 'server', state: TableState, http = false): Subject | null {
  const clock = new FakeClock();
  const conn =
    role === 'server'
      ? serverConnection({ http: http ? HttpServerPhase : null })
      : clientConnection(URL, { random: seededRandom() });
  const subject = { conn, clock, role };
  if (state === 'handshake') return subject;
  if (state === 'awaiting-accept') {
    if (role === 'client') return null;
    conn.receiveData(ascii(REQUEST));
    drain(conn);
    return subject;
  }
  if (state === 'refusal-body') {
    if (role === 'server') return null;
    drain(conn);
    conn.receiveData(ascii(REFUSAL_HEAD));
    drain(conn);
    return subject;
  }
  // open
  if (role === 'server') {
    conn.receiveData(ascii(REQUEST));
    conn.send({ type: 'accept' });
  } else {
    conn.receiveData(answer(conn));
  }
  drain(conn);
  if (state === 'open') return subject;
  if (state === 'closing') {
    conn.send({ type: 'close', code: 1000 });
    drain(conn);
    return subject;
  }
  conn.receiveEof(); // closed
  drain(conn);
  return subject;
}

/** Apply `input` through the public API. Returns false when the input cannot be expressed in this state and role. */
function apply({ conn, clock, role }: Subject, input: TransitionInput): boolean {
  const state = phase(conn);
  const frame = role === 'server' ? clientFrame : serverFrame;
  switch (input) {
    case 'request':
      // After the handshake the same bytes are frames (a violation, the `fail` row), not a request.
      if (role !== 'server' || (state !== 'handshake' && state !== 'awaiting-accept')) return false;
      conn.receiveData(ascii(REQUEST));
      return true;
    case 'accept':
      if (role !== 'server' || state !== 'awaiting-accept') return false;
      conn.send({ type: 'accept' });
      return true;
    case 'reject':
      if (role === 'server') {
        if (state !== 'awaiting-accept') return false;
        conn.send({ type: 'reject', status: 403 });
      } else {
        // The refusal's body is complete.
        if (state !== 'refusal-body') return false;
        conn.receiveData(ascii(REFUSAL_REST));
      }
      return true;
    case 'refusal':
      if (role !== 'client' || state !== 'handshake') return false;
      conn.takeOutput();
      conn.receiveData(ascii(REFUSAL_HEAD));
      return true;
    case 'response':
      if (role !== 'client' || state !== 'handshake') return false;
      conn.receiveData(answer(conn));
      return true;
    case 'send-close':
      if (state !== 'open' && state !== 'closing') return false;
      if (state === 'closing') {
        // A second Close is the caller's misuse, not a transition: it must not move the state.
        conn.send({ type: 'close', code: 1000 });
        return false;
      }
      conn.send({ type: 'close', code: 1000 });
      return true;
    case 'recv-close':
      if (state !== 'open' && state !== 'closing') return false;
      conn.receiveData(frame(0x88, Uint8Array.of(0x03, 0xe8)));
      return true;
    case 'abort':
      // close() before the connection opened; after, the same call is `send-close` (or nothing).
      if (state !== 'handshake' && state !== 'awaiting-accept' && state !== 'refusal-body') return false;
      conn.send({ type: 'close' });
      return true;
    case 'fail':
      // A refusal's body is whatever bytes come: nothing in it is a violation.
      if (state === 'refusal-body') return false;
      if (state === 'awaiting-accept') {
        // Bytes after the request wait for the application's decision, up to maxHeadBytes.
        conn.receiveData(new Uint8Array(conn.limits.maxHeadBytes + 1));
      } else if (state === 'handshake') {
        // Bytes no head parser accepts fail the handshake.
        conn.receiveData(ascii(role === 'server' ? 'NOT HTTP AT ALL\r\n\r\n' : 'HTTP/1.1 101 Nope\r\n\r\n'));
      } else {
        // A reserved opcode is a violation on either side.
        conn.receiveData(frame(0x83));
      }
      return true;
    case 'eof':
      conn.receiveEof();
      return true;
    case 'served': {
      // A server that also answers plain HTTP (`http: HttpServerPhase`): one request with `Connection: close`, answered.
      if (role !== 'server' || state !== 'handshake') return false;
      conn.receiveData(ascii('GET /health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'));
      conn.takeEvents();
      conn.send({ type: 'http-response', status: 200, bodyLength: 2 });
      conn.send({ type: 'http-body', data: ascii('ok') });
      conn.send({ type: 'http-end' });
      return true;
    }
    case 'timeout': {
      // A wait that began shows as 0: the tick a driver makes at once starts its clock.
      if (conn.nextDeadline() === 0) conn.tick(clock.now());
      const deadline = conn.nextDeadline();
      if (deadline === null) return false;
      clock.advance(deadline - clock.now() + 1);
      conn.tick(clock.now());
      return true;
    }
  }
}

const table = new Map(transitionTable().map(([from, input, to]) => [`${from} ${input}`, to]));

describe('the transition table against the code', () => {
  it('lists every state, and nothing leaves closed', () => {
    const froms = new Set(transitionTable().map(([from]) => from));
    for (const state of STATES) expect(froms.has(state), state).toBe(true);
    // closed's one row: the deadline for a transport that lingers after the close stays in closed.
    expect(transitionTable().filter(([from]) => from === 'closed')).toEqual([['closed', 'timeout', 'closed']]);
  });

  it('closed --timeout--> closed destroys a transport that lingers past closeTimeout', () => {
    const subject = reach('client', 'open');
    if (subject === null) throw new Error('a client reaches open');
    const { conn, clock } = subject;
    conn.send({ type: 'close' });
    conn.receiveData(serverFrame(0x88, Uint8Array.of(0x03, 0xe8))); // the server's Close; its FIN never comes
    conn.takeEvents();
    conn.takeOutput();
    expect([conn.state, conn.finished]).toEqual(['closed', false]);
    expect(apply(subject, 'timeout')).toBe(true);
    expect(conn.state).toBe('closed');
    expect(conn.takeOutput()).toEqual([{ type: 'destroy' }]);
    expect(conn.finished).toBe(true);
    expect(conn.nextDeadline()).toBeNull();
    expect(clock.now()).toBeGreaterThan(conn.timeouts.closeTimeout);
  });

  it('refusal-body: the rejected event waits for the whole body (reject), or comes with what came at EOF (eof)', () => {
    for (const [input, body] of [
      ['reject', 'no go'],
      ['eof', 'no'],
    ] as const) {
      const subject = reach('client', 'refusal-body');
      if (subject === null) throw new Error('a client reaches refusal-body');
      const { conn } = subject;
      expect(conn.state).toBe('handshake'); // reported as the handshake it still is
      expect(conn.nextDeadline()).toBe(0); // the handshake timeout still runs
      expect(apply(subject, input)).toBe(true);
      const events = conn.takeEvents();
      expect(events.map((e) => e.type)).toEqual(['rejected', 'closed']);
      const rejected = events[0];
      if (rejected?.type !== 'rejected') throw new Error('rejected first');
      expect(new TextDecoder().decode(rejected.body)).toBe(body);
      expect(rejected.response.status).toBe(403);
      expect(conn.closeInfo?.error).toBe('BAD_STATUS');
      expect(conn.takeOutput()).toEqual([{ type: 'destroy' }]);
    }
  });

  for (const role of ['server', 'client'] as const) {
    for (const state of STATES) {
      for (const input of INPUTS) {
        const expected = table.get(`${state} ${input}`);
        it(`${role}: ${state} --${input}--> ${expected ?? '(not allowed)'}`, () => {
          const subject = reach(role, state, input === 'served');
          if (subject === null) {
            // Only the client never awaits an accept; only the client reads a refusal's body.
            expect(`${role} ${state}`).toMatch(/^(client awaiting-accept|server refusal-body)$/);
            return;
          }
          expect(phase(subject.conn)).toBe(state);
          let applied: boolean;
          try {
            applied = apply(subject, input);
            subject.conn.takeEvents(); // the codec parses what it was fed as events are taken
          } catch (error) {
            // The caller's misuse (e.g. accept on a client) throws a typed error and moves nothing.
            expect((error as Error).name).toBe('WebSocketUsageError');
            applied = false;
          }
          if (expected !== undefined && applied) {
            expect(phase(subject.conn)).toBe(expected);
          } else {
            // Not in the table (or not expressible here): the state is unchanged, except that a
            // connection already closing or open may be failed by anything the peer sends wrongly,
            // which the table lists; so anything else leaves it where it was.
            expect(phase(subject.conn)).toBe(state);
          }
        });
      }
    }
  }
});
