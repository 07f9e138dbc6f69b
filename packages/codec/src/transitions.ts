/**
 * The connection's lifecycle as one table. Everything that moves a connection from one
 * state to another is listed here; `connection.ts` asks this table and never decides a
 * state on its own. The table does not know which role we play: the client simply never
 * meets `request` or `accept`, the server never meets `response`.
 *
 *   handshake ──request──▶ awaiting-accept ──accept──▶ open ──send-close──▶ closing
 *       │  ├──response───────────────────────────────▶ open      │               │
 *       │  └──refusal──▶ refusal-body ──(reject|abort|eof|timeout)──▶ closed       │
 *       └─(abort|fail|eof|timeout|served)──▶ closed ◀──(recv-close|fail|eof)──┴──(recv-close|fail|eof|timeout)
 *
 * (awaiting-accept leaves for closed on reject, abort, fail, eof and timeout.) A client whose
 * answer was a refusal reads its body (bounded by `maxRejectBodyBytes`) in `refusal-body`, which
 * it reports as `handshake` (see {@link reportedState}): the `rejected` event comes when the body
 * is complete (`reject`) or the connection ends (`eof`). One deadline outlives the WebSocket: in
 * closed, until the transport is finished (our FIN sent and the peer's received),
 * `closeTimeout` still runs and its `timeout` destroys the transport. The table lists it as
 * closed's only row, which leaves the state where it is.
 */

/** The states a connection reports (`connection.state`). */
export type ConnectionState = 'handshake' | 'awaiting-accept' | 'open' | 'closing' | 'closed';

/** The table's states: the reported ones, and the phase a client reads a refusal's body in. */
export type TableState = ConnectionState | 'refusal-body';

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
  | 'timeout'
  /** Server: plain HTTP requests were answered and the connection ends without an upgrade. */
  | 'served';

const TABLE: Readonly<Record<TableState, Partial<Record<TransitionInput, TableState>>>> = {
  handshake: {
    request: 'awaiting-accept',
    response: 'open',
    refusal: 'refusal-body',
    abort: 'closed',
    fail: 'closed',
    eof: 'closed',
    timeout: 'closed',
    served: 'closed',
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

/** The state a connection in `state` reports: a client reading a refusal's body is still in its handshake. */
export function reportedState(state: TableState): ConnectionState {
  return state === 'refusal-body' ? 'handshake' : state;
}

/** Every (state, input, next) triple, for documentation and tests. */
export function transitionTable(): Array<[TableState, TransitionInput, TableState]> {
  const rows: Array<[TableState, TransitionInput, TableState]> = [];
  for (const [state, inputs] of Object.entries(TABLE) as Array<
    [TableState, Partial<Record<TransitionInput, TableState>>]
  >) {
    for (const [input, next] of Object.entries(inputs) as Array<[TransitionInput, TableState]>)
      rows.push([state, input, next]);
  }
  return rows;
}
