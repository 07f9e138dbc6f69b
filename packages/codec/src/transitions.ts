/**
 * The connection's lifecycle as one table, and its transport's as a second, small one. Everything
 * that moves a connection from one state to another is listed here; `connection.ts` and the
 * modules it is made of ask these tables (through `move` and `moveTransport` in
 * `connection-core.ts`) and never decide a state on their own. The tables do not know which role
 * we play: the client simply never meets `request`, `accept` or plain HTTP, the server never
 * meets `response`.
 *
 *   handshake ──request──▶ awaiting-accept ──accept──▶ open ──send-close──▶ closing
 *     │ │ └──http-request──▶ serving-http ──request──▶ awaiting-accept
 *     │ │                    serving-http ──(http-request|http-answered)──▶ serving-http
 *     │ ├──response───────────────────────────────────────▶ open
 *     │ └──refusal──▶ refusal-body
 *     └──(abort|fail|eof|timeout)──▶ closed
 *
 *   Into closed, too: from awaiting-accept on (reject|abort|fail|eof|timeout), serving-http on
 *   (served|abort|fail|eof|timeout), refusal-body on (reject|abort|eof|timeout), open on
 *   (recv-close|fail|eof), closing on (recv-close|fail|eof|timeout). And closed ──timeout──▶ closed.
 *
 * A server made with `http` answers plain requests in `serving-http`, one after another on a
 * kept-alive connection, until a request upgrades (`request`) or the connection ends (`served`:
 * the last response went out without keep-alive). A client whose answer was a refusal reads its
 * body (bounded by `maxRejectBodyBytes`) in `refusal-body`. Both phases are reported as
 * `handshake` (see {@link reportedState}): the WebSocket handshake has not completed. One
 * deadline outlives the WebSocket: in closed, until the transport is finished, `closeTimeout`
 * still runs and its `timeout` destroys the transport. The table lists it as closed's only row,
 * which leaves the state where it is; the transport's table says whether anything still waits.
 *
 * The transport (TCP, a TLS stream, an HTTP/2 stream) keeps our side and the peer's apart, as h11
 * keeps the two parties: `eof` is the peer's FIN (`receiveEof()`), `shutdown` ours (a `shutdown`
 * output), `destroy` drops the transport (a `destroy` output, on a failure or an abort), and
 * `timeout` is closed's deadline above, which drops it too:
 *
 *   both-open ──eof──▶ eof-received ──shutdown──▶ finished
 *     │  │                  └──destroy──▶ destroyed
 *     │  └──shutdown──▶ shutdown-sent ──eof──▶ finished
 *     │                       └──timeout──▶ destroyed
 *     └──(destroy|timeout)──▶ destroyed
 *
 * Each transport state also says what `receiveData()` does with the peer's bytes: reads them
 * (what the connection's state makes of them is its own business), refuses the call (after
 * `receiveEof()` the caller has no more bytes to give: its misuse), or drops them (the transport
 * is gone). A second `receiveEof()`, or a shutdown or destroy of a transport already past it,
 * has no row: nothing moves. Only what a connection can meet is listed (a shutdown comes only
 * once closed, where nothing but the deadline destroys the transport), and the table test
 * (`test/transitions.test.ts`) drives every row, and every input where there is none, through
 * the public API.
 */

/** The states a connection reports (`connection.state`). */
export type ConnectionState = 'handshake' | 'awaiting-accept' | 'open' | 'closing' | 'closed';

/** The table's states: the reported ones, and two phases of the handshake (see {@link reportedState}). */
export type TableState = ConnectionState | 'serving-http' | 'refusal-body';

export type TransitionInput =
  /** Server: a valid upgrade request arrived. */
  | 'request'
  /** Server: the application accepted it. */
  | 'accept'
  /** Server: the application refused it; client: the server's refusal, body and all, arrived. */
  | 'reject'
  /** Client: a valid 101 (HTTP/2: 200) arrived. */
  | 'response'
  /** Client: the server's answer is a refusal (another status): its body comes next. */
  | 'refusal'
  /** Server with `http`: a plain HTTP request arrived (an `http-request` event). */
  | 'http-request'
  /** Server with `http`: a plain request's response is complete and the connection stays for the next. */
  | 'http-answered'
  /** Server with `http`: the last response went out and the connection ends without an upgrade. */
  | 'served'
  /** We sent a Close frame first. */
  | 'send-close'
  /** The peer's Close frame arrived. */
  | 'recv-close'
  /** The application gave up on the handshake (`close()` before the connection opened, as a browser does). */
  | 'abort'
  /** A violation, a limit or a keepalive timeout failed the connection. */
  | 'fail'
  /** The peer closed TCP. */
  | 'eof'
  /** The handshake or close deadline passed (in closed: the wait for the transport to finish). */
  | 'timeout';

const TABLE: Readonly<Record<TableState, Partial<Record<TransitionInput, TableState>>>> = {
  handshake: {
    request: 'awaiting-accept',
    'http-request': 'serving-http',
    response: 'open',
    refusal: 'refusal-body',
    abort: 'closed',
    fail: 'closed',
    eof: 'closed',
    timeout: 'closed',
  },
  'serving-http': {
    'http-request': 'serving-http',
    'http-answered': 'serving-http',
    request: 'awaiting-accept',
    served: 'closed',
    abort: 'closed',
    fail: 'closed',
    eof: 'closed',
    timeout: 'closed',
  },
  'awaiting-accept': {
    accept: 'open',
    reject: 'closed',
    abort: 'closed',
    fail: 'closed',
    eof: 'closed',
    timeout: 'closed',
  },
  'refusal-body': { reject: 'closed', abort: 'closed', eof: 'closed', timeout: 'closed' },
  open: { 'send-close': 'closing', 'recv-close': 'closed', fail: 'closed', eof: 'closed' },
  closing: { 'recv-close': 'closed', fail: 'closed', eof: 'closed', timeout: 'closed' },
  closed: { timeout: 'closed' },
};

/** The state after `input`, or null if `input` is not allowed in `state`. */
export function transition(state: TableState, input: TransitionInput): TableState | null {
  return TABLE[state][input] ?? null;
}

/** The state a connection in `state` reports: serving plain HTTP or reading a refusal's body, it is still in its handshake. */
export function reportedState(state: TableState): ConnectionState {
  return state === 'serving-http' || state === 'refusal-body' ? 'handshake' : state;
}

/** Every (state, input, next) triple, for documentation and tests. */
export function transitionTable(): Array<[TableState, TransitionInput, TableState]> {
  return rowsOf(TABLE);
}

// ───────────────────────────── the transport ─────────────────────────────

export type TransportState = 'both-open' | 'eof-received' | 'shutdown-sent' | 'finished' | 'destroyed';

export type TransportInput =
  /** The peer's FIN arrived (`receiveEof()`; also a broken transport). */
  | 'eof'
  /** We close our side after the pending writes (a `shutdown` output). */
  | 'shutdown'
  /** We drop the transport (a `destroy` output): a failed or aborted handshake, a close that timed out. */
  | 'destroy'
  /** In closed, the transport was not finished within `closeTimeout`: dropped (a `destroy` output). */
  | 'timeout';

/** What `receiveData()` does with the peer's bytes in a transport state. */
export type PeerBytes = 'read' | 'refuse' | 'drop';

/**
 * The transport's states by number: a connection keeps its transport's state as a small integer
 * (three bits of its flags, see `connection-core.ts`; 0 is both-open), named here by these constants.
 */
export const TRANSPORT_STATES: readonly TransportState[] = [
  'both-open',
  'eof-received',
  'shutdown-sent',
  'finished',
  'destroyed',
];
const EOF_RECEIVED = 1;
const SHUTDOWN_SENT = 2;
const FINISHED = 3;
const DESTROYED = 4;
/** The inputs by number (the code moves the transport with these constants). */
export const TRANSPORT_INPUTS: readonly TransportInput[] = ['eof', 'shutdown', 'destroy', 'timeout'];
export const ON_EOF = 0;
export const ON_SHUTDOWN = 1;
export const ON_DESTROY = 2;
export const ON_TIMEOUT = 3;
/** What `receiveData()` does with bytes, by number (see {@link PEER_BYTES}). */
export const READ = 0;
export const REFUSE = 1;
const DROP = 2;
export const PEER_BYTES: readonly PeerBytes[] = ['read', 'refuse', 'drop'];
/** No row: the input moves nothing. */
const NO = -1;

/**
 * The transport's table: one row per state, in the order of {@link TRANSPORT_STATES}, giving the
 * state each input leads to, in the order of {@link TRANSPORT_INPUTS} (NO: no row), then what
 * `receiveData()` does with the peer's bytes there. Numbers, not names: the connection's code
 * reads it (once per move; `receiveData` only when the state is not both-open) and a bundle
 * carries no names for it.
 */
const TRANSPORT_TABLE: ReadonlyArray<
  readonly [eof: number, shutdown: number, destroy: number, timeout: number, bytes: number]
> = [
  /* both-open */ [EOF_RECEIVED, SHUTDOWN_SENT, DESTROYED, DESTROYED, READ],
  /* eof-received */ [NO, FINISHED, DESTROYED, NO, REFUSE],
  /* shutdown-sent */ [FINISHED, NO, NO, DESTROYED, READ],
  /* finished */ [NO, NO, NO, NO, REFUSE],
  /* destroyed */ [NO, NO, NO, NO, DROP],
];

/** The transport state (a number) after `input` (a number), or -1 if `input` moves nothing in `state`. */
export function transportTransition(state: number, input: number): number {
  return TRANSPORT_TABLE[state]?.[input] ?? NO;
}

/** What `receiveData()` does with the peer's bytes in transport state `state`: READ, REFUSE or DROP. */
export function peerBytes(state: number): number {
  return TRANSPORT_TABLE[state]?.[4] ?? DROP;
}

/**
 * Transport state `state` is one nothing leaves: finished, or destroyed. The table numbers those
 * last, from FINISHED on (the table test checks that no row leaves them and every other has one).
 */
export function transportEnded(state: number): boolean {
  return state >= FINISHED;
}

/** Every (state, input, next) triple of the transport's table by name, and what each state does with the peer's bytes. */
export function transportTable(): {
  rows: Array<[TransportState, TransportInput, TransportState]>;
  bytes: Record<TransportState, PeerBytes>;
} {
  const rows: Array<[TransportState, TransportInput, TransportState]> = [];
  const bytes = {} as Record<TransportState, PeerBytes>;
  TRANSPORT_TABLE.forEach((row, state) => {
    const name = TRANSPORT_STATES[state] ?? 'destroyed';
    TRANSPORT_INPUTS.forEach((input, i) => {
      const next = TRANSPORT_STATES[row[i] ?? NO];
      if (next !== undefined) rows.push([name, input, next]);
    });
    bytes[name] = PEER_BYTES[row[4]] ?? 'drop';
  });
  return { rows, bytes };
}

function rowsOf<S extends string, I extends string>(
  table: Readonly<Record<S, Partial<Record<I, S>>>>,
): Array<[S, I, S]> {
  const rows: Array<[S, I, S]> = [];
  for (const [state, inputs] of Object.entries(table) as Array<[S, Partial<Record<I, S>>]>) {
    for (const [input, next] of Object.entries(inputs) as Array<[I, S]>) rows.push([state, input, next]);
  }
  return rows;
}
