// Both tables of transitions.ts checked against the code, h11-style: for every state a connection
// (or its transport) can be in and every input the table names, drive a real connection into that
// state, apply the input through the public API, and compare the state it lands in with the table.
// Inputs the table does not allow in a state must leave the connection where it was (or not happen
// at all). The code moves only through the tables, so each state it is in (read through the
// internal `coreOf` hook) is also checked against what a user saw, independently of the
// tables: the events taken, the outputs taken, `closeInfo`, whether `receiveEof()` was called. A
// row changed to a state whose behaviour the code does not show (a `served` that does not close,
// a transport that says it is finished before both FINs) fails here; so does a state whose
// behaviour the table misdescribes (what `receiveData()` does with bytes, `finished`, closed's
// deadline).
import { describe, expect, it } from 'vitest';
import { Connection, transitionTable } from '../src/index.ts';
import { coreOf } from '../src/connection.ts';
import { transportState } from '../src/connection-core.ts';
import { clientConnection } from '../src/client.ts';
import { serverConnection } from '../src/server.ts';
import { FakeClock, seededRandom } from '../src/testing/index.ts';
import {
  type ConnectionState,
  type TableState,
  type TransitionInput,
  type TransportInput,
  type TransportState,
  TRANSPORT_STATES as TRANSPORT_NAMES,
  reportedState,
  transportTable,
} from '../src/transitions.ts';
import { REQUEST, ascii, clientFrame, serverFrame } from './helpers/frames.ts';
import { HttpServerPhase } from '../src/http.ts';

/** Every input of the table's type: a new one that this list lacks fails to compile. */
const ALL_INPUTS: Record<TransitionInput, true> = {
  request: true,
  accept: true,
  reject: true,
  response: true,
  refusal: true,
  'http-request': true,
  'http-answered': true,
  served: true,
  'send-close': true,
  'recv-close': true,
  abort: true,
  fail: true,
  eof: true,
  timeout: true,
};
const INPUTS = Object.keys(ALL_INPUTS) as TransitionInput[];
const ALL_STATES: Record<TableState, true> = {
  handshake: true,
  'serving-http': true,
  'awaiting-accept': true,
  'refusal-body': true,
  open: true,
  closing: true,
  closed: true,
};
const STATES = Object.keys(ALL_STATES) as TableState[];
/** What `connection.state` says in each (the public values: serving plain HTTP or reading a refusal, a client is in its handshake). */
const REPORTED: Record<TableState, ConnectionState> = {
  handshake: 'handshake',
  'serving-http': 'handshake',
  'awaiting-accept': 'awaiting-accept',
  'refusal-body': 'handshake',
  open: 'open',
  closing: 'closing',
  closed: 'closed',
};
const ALL_TRANSPORT_STATES: Record<TransportState, true> = {
  'both-open': true,
  'eof-received': true,
  'shutdown-sent': true,
  finished: true,
  destroyed: true,
};
const TRANSPORT_STATES = Object.keys(ALL_TRANSPORT_STATES) as TransportState[];
const ALL_TRANSPORT_INPUTS: Record<TransportInput, true> = { eof: true, shutdown: true, destroy: true, timeout: true };
const TRANSPORT_INPUTS = Object.keys(ALL_TRANSPORT_INPUTS) as TransportInput[];

const URL = 'ws://server.example.com/chat';
/** A refusal whose body comes in two parts: its head and the first 2 bytes, then the last 3. */
const REFUSAL_HEAD = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nno';
const REFUSAL_REST = ' go';
/** A plain request, kept alive (HTTP/1.1's default). */
const PLAIN = 'GET /page HTTP/1.1\r\nHost: h\r\n\r\n';
/** A plain request after which the connection ends. */
const PLAIN_LAST = 'GET /health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n';

const transport = transportTable();
const table = new Map(transitionTable().map(([from, input, to]) => [`${from} ${input}`, to]));
const transportNext = new Map(transport.rows.map(([from, input, to]) => [`${from} ${input}`, to]));

/** What a user of a connection saw: the events and outputs taken, `receiveEof()`, a Close sent on an open connection. */
interface Seen {
  events: Set<string>;
  outputs: Set<string>;
  eof: boolean;
  closeSent: boolean;
}
const seen = new WeakMap<Connection, Seen>();

/** `conn`, with what it is asked and what is taken from it noted (see {@link Seen}). */
function tracked(conn: Connection): Connection {
  const log: Seen = { events: new Set(), outputs: new Set(), eof: false, closeSent: false };
  seen.set(conn, log);
  const { takeEvents, takeOutput, receiveEof, send } = conn;
  conn.takeEvents = () => {
    const events = takeEvents.call(conn);
    for (const event of events) log.events.add(event.type);
    return events;
  };
  conn.takeOutput = () => {
    const outputs = takeOutput.call(conn);
    for (const output of outputs) log.outputs.add(output.type);
    return outputs;
  };
  conn.receiveEof = () => {
    log.eof = true;
    receiveEof.call(conn);
  };
  conn.send = (command) => {
    if (command.type === 'close' && conn.state === 'open') log.closeSent = true;
    send.call(conn, command);
  };
  return conn;
}

function seenOf(conn: Connection): Seen {
  const log = seen.get(conn);
  if (log === undefined) throw new Error('an untracked connection');
  return log;
}

/** The state a user would say `conn` is in, from what it saw (all events and outputs taken). */
function observedPhase(conn: Connection): TableState {
  const { events, closeSent } = seenOf(conn);
  if (conn.closeInfo !== null) return 'closed'; // the closed event's info
  if (events.has('open')) return closeSent ? 'closing' : 'open';
  if (conn.role === 'client') return conn.response !== null ? 'refusal-body' : 'handshake';
  if (events.has('request')) return 'awaiting-accept';
  return events.has('http-request') ? 'serving-http' : 'handshake';
}

/** The transport state a user would say `conn` is in: what it told the transport, and whether the peer's EOF came. */
function observedTransport(conn: Connection): TransportState {
  const { outputs, eof } = seenOf(conn);
  if (outputs.has('destroy')) return 'destroyed';
  const shut = outputs.has('shutdown');
  return eof ? (shut ? 'finished' : 'eof-received') : shut ? 'shutdown-sent' : 'both-open';
}

/** The table state `conn` is in: the one a user saw, and its public `state` the one that state reports. */
function phase(conn: Connection): TableState {
  const { state } = coreOf(conn);
  expect([conn.state, reportedState(state)]).toEqual([REPORTED[state], REPORTED[state]]);
  expect(state).toBe(observedPhase(conn));
  return state;
}

/**
 * The transport state `conn` is in: the one a user saw; `finished` and (in closed) the wait for
 * the transport as that state says, both by the table and by what was seen.
 */
function transportPhase(conn: Connection): TransportState | undefined {
  const state = TRANSPORT_NAMES[transportState(coreOf(conn))];
  expect(state).toBe(observedTransport(conn));
  // Finished: both FINs, or dropped; in the table, a state nothing leaves.
  const finished = state === 'finished' || state === 'destroyed';
  expect([conn.finished, !transport.rows.some(([from]) => from === state)]).toEqual([finished, finished]);
  // In closed, the only deadline is the wait for the transport: there until it is finished (the table's `timeout` row).
  if (conn.state === 'closed') {
    const waits = !finished && conn.timeouts.closeTimeout > 0;
    expect([conn.nextDeadline() !== null, transportNext.has(`${state} timeout`)]).toEqual([waits, waits]);
  }
  return state;
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
  const server = serverConnection(); // (not the one under test)
  const request = client.takeOutput().filter((o) => o.type === 'write');
  for (const o of request) server.receiveData(o.data);
  server.takeEvents();
  server.send({ type: 'accept' });
  const out = server.takeOutput().filter((o) => o.type === 'write');
  return Uint8Array.from(out.flatMap((o) => [...o.data]));
}

/** Answer the plain request being served: a 200 with a 2-byte body. */
function respond(conn: Connection): void {
  conn.send({ type: 'http-response', status: 200, bodyLength: 2 });
  conn.send({ type: 'http-body', data: ascii('ok') });
  conn.send({ type: 'http-end' });
}

/** The server connection's `open`, or the client's. */
function open(role: 'client' | 'server'): Subject {
  const clock = new FakeClock();
  const conn = tracked(role === 'server' ? serverConnection() : clientConnection(URL, { random: seededRandom() }));
  if (role === 'server') {
    conn.receiveData(ascii(REQUEST));
    conn.send({ type: 'accept' });
  } else {
    conn.receiveData(answer(conn));
  }
  drain(conn);
  return { conn, clock, role };
}

/**
 * A connection of `role` driven into `state` through the public API, or null where the role never
 * has it. A server serving plain HTTP waits for its next request (one was answered), or, to meet
 * `http-answered`, answers one.
 */
function reach(role: 'client' | 'server', state: TableState, input: TransitionInput): Subject | null {
  const clock = new FakeClock();
  const http = state === 'serving-http' || input === 'served' || input === 'http-request' || input === 'http-answered';
  const conn = tracked(
    role === 'server'
      ? serverConnection({ http: http ? HttpServerPhase : null })
      : clientConnection(URL, { random: seededRandom() }),
  );
  const subject = { conn, clock, role };
  switch (state) {
    case 'handshake':
      return subject;
    case 'serving-http':
      if (role === 'client') return null;
      conn.receiveData(ascii(PLAIN));
      conn.takeEvents();
      if (input !== 'http-answered') respond(conn);
      drain(conn);
      return subject;
    case 'awaiting-accept':
      if (role === 'client') return null;
      conn.receiveData(ascii(REQUEST));
      drain(conn);
      return subject;
    case 'refusal-body':
      if (role === 'server') return null;
      drain(conn);
      conn.receiveData(ascii(REFUSAL_HEAD));
      drain(conn);
      return subject;
    case 'open':
      return open(role);
    case 'closing': {
      const opened = open(role);
      opened.conn.send({ type: 'close', code: 1000 });
      drain(opened.conn);
      return opened;
    }
    case 'closed': {
      const opened = open(role);
      opened.conn.receiveEof();
      drain(opened.conn);
      return opened;
    }
  }
}

/** Let the next deadline pass (false when nothing is timed). */
function timeOut({ conn, clock }: Subject): boolean {
  // A wait that began shows as 0: the tick a driver makes at once starts its clock.
  if (conn.nextDeadline() === 0) conn.tick(clock.now());
  const deadline = conn.nextDeadline();
  if (deadline === null) return false;
  clock.advance(deadline - clock.now() + 1);
  conn.tick(clock.now());
  return true;
}

/**
 * Apply `input` through the public API. Returns the inputs that happened, in order (a plain
 * request that is the last is `http-request` then `served`), or null when the input cannot be
 * expressed in this state and role.
 */
function apply(subject: Subject, input: TransitionInput): TransitionInput[] | null {
  const { conn, role } = subject;
  const state = phase(conn);
  const frame = role === 'server' ? clientFrame : serverFrame;
  const inHandshake = state === 'handshake' || state === 'serving-http';
  switch (input) {
    case 'request':
      // After the handshake the same bytes are frames (a violation, the `fail` row), not a request.
      if (role !== 'server' || (!inHandshake && state !== 'awaiting-accept')) return null;
      conn.receiveData(ascii(REQUEST));
      return [input];
    case 'accept':
      if (role !== 'server' || state !== 'awaiting-accept') return null;
      conn.send({ type: 'accept' });
      return [input];
    case 'reject':
      if (role === 'server') {
        if (state !== 'awaiting-accept') return null;
        conn.send({ type: 'reject', status: 403 });
      } else {
        // The refusal's body is complete.
        if (state !== 'refusal-body') return null;
        conn.receiveData(ascii(REFUSAL_REST));
      }
      return [input];
    case 'refusal':
      if (role !== 'client' || state !== 'handshake') return null;
      conn.takeOutput();
      conn.receiveData(ascii(REFUSAL_HEAD));
      return [input];
    case 'response':
      if (role !== 'client' || state !== 'handshake') return null;
      conn.receiveData(answer(conn));
      return [input];
    case 'http-request':
      if (role !== 'server' || !inHandshake) return null;
      conn.receiveData(ascii(PLAIN));
      return [input];
    case 'http-answered':
      // In handshake nothing is being answered: the caller's misuse, which throws.
      if (role !== 'server' || !inHandshake) return null;
      respond(conn);
      return [input];
    case 'served':
      // One more request, with `Connection: close`, answered. (In handshake, the request comes first: `http-request`.)
      if (role !== 'server' || state !== 'serving-http') return null;
      conn.receiveData(ascii(PLAIN_LAST));
      conn.takeEvents();
      respond(conn);
      return ['http-request', input];
    case 'send-close':
      if (state !== 'open' && state !== 'closing') return null;
      // In closing a second Close is the caller's misuse, not a transition: it must not move the state.
      conn.send({ type: 'close', code: 1000 });
      return state === 'open' ? [input] : null;
    case 'recv-close':
      if (state !== 'open' && state !== 'closing') return null;
      conn.receiveData(frame(0x88, Uint8Array.of(0x03, 0xe8)));
      return [input];
    case 'abort':
      // close() before the connection opened; after, the same call is `send-close` (or nothing).
      if (!inHandshake && state !== 'awaiting-accept' && state !== 'refusal-body') return null;
      conn.send({ type: 'close' });
      return [input];
    case 'fail':
      // A refusal's body is whatever bytes come: nothing in it is a violation.
      if (state === 'refusal-body') return null;
      if (state === 'awaiting-accept') {
        // Bytes after the request wait for the application's decision, up to maxHeadBytes.
        conn.receiveData(new Uint8Array(conn.limits.maxHeadBytes + 1));
      } else if (inHandshake) {
        // Bytes no head parser accepts fail the handshake (or are a bad plain request: a 400).
        conn.receiveData(ascii(role === 'server' ? 'NOT HTTP AT ALL\r\n\r\n' : 'HTTP/1.1 101 Nope\r\n\r\n'));
      } else {
        // A reserved opcode is a violation on either side.
        conn.receiveData(frame(0x83));
      }
      return [input];
    case 'eof':
      conn.receiveEof();
      return [input];
    case 'timeout':
      return timeOut(subject) ? [input] : null;
  }
}

/** Where `inputs` take `state` by the rows of `next` (an input with no row there moves nothing). */
function follow<S, I>(next: Map<string, S>, state: S, inputs: readonly I[]): S {
  let at = state;
  for (const input of inputs) at = next.get(`${at} ${input}`) ?? at;
  return at;
}

describe('the transition table against the code', () => {
  it('lists every state, and nothing leaves closed', () => {
    const froms = new Set(transitionTable().map(([from]) => from));
    for (const state of STATES) expect(froms.has(state), state).toBe(true);
    // closed's one row: the deadline for a transport that lingers after the close stays in closed.
    expect(transitionTable().filter(([from]) => from === 'closed')).toEqual([['closed', 'timeout', 'closed']]);
  });

  it('closed --timeout--> closed destroys a transport that lingers past closeTimeout', () => {
    const subject = open('client');
    const { conn, clock } = subject;
    conn.send({ type: 'close' });
    conn.receiveData(serverFrame(0x88, Uint8Array.of(0x03, 0xe8))); // the server's Close; its FIN never comes
    conn.takeEvents();
    conn.takeOutput();
    expect([conn.state, conn.finished]).toEqual(['closed', false]);
    expect(apply(subject, 'timeout')).toEqual(['timeout']);
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
      const subject = reach('client', 'refusal-body', input);
      if (subject === null) throw new Error('a client reaches refusal-body');
      const { conn } = subject;
      expect(conn.state).toBe('handshake'); // reported as the handshake it still is
      expect(conn.nextDeadline()).toBe(0); // the handshake timeout still runs
      expect(apply(subject, input)).toEqual([input]);
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

  it('serving-http: several plain requests in turn, then an upgrade, all reported as handshake', () => {
    const conn = tracked(serverConnection({ http: HttpServerPhase }));
    const states: TableState[] = [phase(conn)];
    for (let i = 0; i < 3; i++) {
      conn.receiveData(ascii(PLAIN));
      expect(conn.takeEvents().map((e) => e.type)).toEqual(['http-request']);
      states.push(phase(conn));
      respond(conn);
      states.push(phase(conn));
    }
    conn.receiveData(ascii(REQUEST));
    expect(conn.takeEvents().map((e) => e.type)).toEqual(['request']);
    states.push(phase(conn));
    expect(states).toEqual(['handshake', ...Array(6).fill('serving-http'), 'awaiting-accept']);
  });

  for (const role of ['server', 'client'] as const) {
    for (const state of STATES) {
      for (const input of INPUTS) {
        const expected = table.get(`${state} ${input}`);
        it(`${role}: ${state} --${input}--> ${expected ?? '(not allowed)'}`, () => {
          const subject = reach(role, state, input);
          if (subject === null) {
            // Only the server awaits an accept or serves plain HTTP; only the client reads a refusal's body.
            expect(`${role} ${state}`).toMatch(/^(client awaiting-accept|client serving-http|server refusal-body)$/);
            return;
          }
          expect(phase(subject.conn)).toBe(state);
          let applied: TransitionInput[] | null;
          try {
            applied = apply(subject, input);
            subject.conn.takeEvents(); // the codec parses what it was fed as events are taken
          } catch (error) {
            // The caller's misuse (e.g. accept on a client) throws a typed error and moves nothing.
            expect((error as Error).name).toBe('WebSocketUsageError');
            applied = null;
          }
          if (applied === null) {
            // Not expressible here (or the caller's misuse): the state is unchanged.
            expect(phase(subject.conn)).toBe(state);
            return;
          }
          // Where the table takes it: `expected`, or (no row) where it was.
          expect(applied[applied.length - 1]).toBe(input);
          expect(phase(subject.conn)).toBe(follow(table, state, applied));
        });
      }
    }
  }
});

// ───────────────────────────── the transport's table ─────────────────────────────

/**
 * A connection of `role` whose transport is in `state`, in the connection state where `input`
 * can be met alone, or null where the role never has it: only a server serving plain HTTP keeps
 * its side open after the peer's EOF (the response being written still goes out).
 */
function reachTransport(role: 'client' | 'server', state: TransportState, input: TransportInput): Subject | null {
  switch (state) {
    case 'both-open':
      if (role === 'server' && input === 'eof') return answering();
      if (input === 'timeout') {
        // Closed, waiting for the transport: only a client waits for the peer's FIN with its own side open.
        if (role === 'server') return null;
        const subject = open(role);
        subject.conn.send({ type: 'close' });
        subject.conn.receiveData(serverFrame(0x88, Uint8Array.of(0x03, 0xe8)));
        drain(subject.conn);
        return subject;
      }
      return input === 'destroy' ? handshaking(role) : open(role);
    case 'eof-received': {
      if (role === 'client') return null;
      const subject = answering();
      subject.conn.receiveEof();
      drain(subject.conn);
      return subject;
    }
    case 'shutdown-sent':
    case 'finished': {
      // Closed by the peer (server: its Close, answered with our FIN) or failed by us (client): our FIN is out.
      const subject = open(role);
      subject.conn.receiveData(role === 'server' ? clientFrame(0x88, Uint8Array.of(0x03, 0xe8)) : serverFrame(0x83));
      subject.conn.takeEvents();
      if (state === 'finished') subject.conn.receiveEof();
      drain(subject.conn);
      return subject;
    }
    case 'destroyed': {
      const subject = handshaking(role);
      subject.conn.send({ type: 'close' });
      drain(subject.conn);
      return subject;
    }
  }
}

function handshaking(role: 'client' | 'server'): Subject {
  const conn = tracked(role === 'server' ? serverConnection() : clientConnection(URL, { random: seededRandom() }));
  return { conn, clock: new FakeClock(), role };
}

/** A server serving plain HTTP, with a request read and not yet answered. */
function answering(): Subject {
  const conn = tracked(serverConnection({ http: HttpServerPhase }));
  conn.receiveData(ascii(PLAIN));
  drain(conn);
  return { conn, clock: new FakeClock(), role: 'server' };
}

/**
 * Apply transport `input` through the public API: what makes the connection shut its side
 * (the peer's Close or a violation once open; the end of a plain response), drop the transport
 * (close() during the handshake), or wait past closed's deadline. Returns the transport inputs
 * that happened (a client answers the peer's EOF with its own at once: `eof` then `shutdown`), or
 * null when nothing in this state would be that input.
 */
function applyTransport(subject: Subject, input: TransportInput): TransportInput[] | null {
  const { conn, role } = subject;
  const state = phase(conn);
  switch (input) {
    case 'eof':
      conn.receiveEof();
      // Open, the connection closes on the EOF and shuts its side too.
      return state === 'open' ? ['eof', 'shutdown'] : ['eof'];
    case 'shutdown':
      if (state === 'serving-http') {
        respond(conn); // the answer goes out, then the connection ends: the peer's EOF came
        return [input];
      }
      if (state !== 'open') return null;
      if (role === 'server') conn.receiveData(clientFrame(0x88, Uint8Array.of(0x03, 0xe8)));
      else conn.receiveData(serverFrame(0x83));
      return [input];
    case 'destroy':
      // close() before the connection opened aborts it; once closed it does nothing.
      conn.send({ type: 'close' });
      return state === 'open' ? null : [input];
    case 'timeout':
      return state === 'closed' && timeOut(subject) ? [input] : null;
  }
}

describe("the transport's table against the code", () => {
  it('lists every state; finished and destroyed are left by nothing', () => {
    const froms = new Set(transport.rows.map(([from]) => from));
    expect(TRANSPORT_STATES.filter((state) => !froms.has(state))).toEqual(['finished', 'destroyed']);
    // Numbered last, from FINISHED on (transportEnded relies on it).
    expect(TRANSPORT_NAMES.slice(3)).toEqual(['finished', 'destroyed']);
    expect(Object.keys(transport.bytes).sort()).toEqual([...TRANSPORT_STATES].sort());
  });

  it('every row is met by the walk below for some role', () => {
    const met = new Set<string>();
    for (const role of ['server', 'client'] as const) {
      for (const [from, input] of transport.rows) {
        const subject = reachTransport(role, from, input);
        if (subject === null) continue;
        const applied = applyTransport(subject, input);
        if (applied?.length === 1) met.add(`${from} ${input}`);
      }
    }
    expect(transport.rows.filter(([from, input]) => !met.has(`${from} ${input}`))).toEqual([]);
  });

  for (const role of ['server', 'client'] as const) {
    for (const state of TRANSPORT_STATES) {
      it(`${role}: in ${state}, receiveData() ${transport.bytes[state]}s the peer's bytes`, () => {
        const subject = reachTransport(role, state, 'shutdown');
        if (subject === null) {
          expect(`${role} ${state}`).toBe('client eof-received');
          return;
        }
        const { conn } = subject;
        expect(transportPhase(conn)).toBe(state);
        // The contract: after receiveEof() more bytes are the caller's misuse; after a destroy they are dropped.
        const { eof, outputs } = seenOf(conn);
        expect(transport.bytes[state]).toBe(outputs.has('destroy') ? 'drop' : eof ? 'refuse' : 'read');
        const before = phase(conn);
        // A ping: an open connection reads it and answers it.
        const ping = (role === 'server' ? clientFrame : serverFrame)(0x89, ascii('hi'));
        if (transport.bytes[state] === 'refuse') {
          expect(() => conn.receiveData(ping)).toThrow(/after receiveEof/);
          return;
        }
        conn.receiveData(ping);
        const events = conn.takeEvents();
        if (transport.bytes[state] === 'drop' || before === 'closed') {
          // Dropped by the transport's table, or (closed) by the connection's: §5.5.1.
          expect([events, conn.takeOutput()]).toEqual([[], []]);
        } else if (before === 'open') {
          expect(events.map((e) => e.type)).toEqual(['ping']);
          expect(conn.takeOutput().map((o) => o.type)).toEqual(['write']);
        }
        expect([phase(conn), transportPhase(conn)]).toEqual([before, state]);
      });

      for (const input of TRANSPORT_INPUTS) {
        const expected = transportNext.get(`${state} ${input}`);
        it(`${role}: ${state} --${input}--> ${expected ?? '(nothing moves)'}`, () => {
          const subject = reachTransport(role, state, input);
          if (subject === null) {
            // A client never keeps its side open after the peer's EOF; a server never waits, in
            // closed, for the peer's FIN with its own side open (it sends its FIN as it closes).
            expect(`${role} ${state} ${input}`).toMatch(/^(client eof-received \w+|server both-open timeout)$/);
            return;
          }
          expect(transportPhase(subject.conn)).toBe(state);
          const applied = applyTransport(subject, input);
          subject.conn.takeEvents();
          const outputs = subject.conn.takeOutput().map((o) => o.type);
          if (expected !== undefined && applied !== null) {
            const landed = follow(transportNext, state, applied);
            expect(transportPhase(subject.conn)).toBe(landed);
            // What the transport was told agrees: a `shutdown`, or a `destroy`, at the end of the output.
            if (applied.includes('shutdown')) expect(outputs.at(-1)).toBe('shutdown');
            if (landed === 'destroyed') expect(outputs.at(-1)).toBe('destroy');
          } else {
            // No row (or nothing in this state is that input): the transport is where it was, and told nothing.
            expect(transportPhase(subject.conn)).toBe(state);
            expect(outputs.filter((type) => type === 'shutdown' || type === 'destroy')).toEqual([]);
          }
        });
      }
    }
  }
});
