/**
 * The connection's lifecycle as one table. Everything that moves a connection from one
 * state to another is listed here; `connection.ts` asks this table and never decides a
 * state on its own. The table does not know which role we play: the client simply never
 * meets `request` or `accept`, the server never meets `response`.
 *
 *   handshake ──request──▶ awaiting-accept ──accept──▶ open ──send-close──▶ closing
 *       │  └──response───────────────────────────────▶ open      │               │
 *       └─(reject|abort|fail|eof|timeout|served)──▶ closed ◀──(recv-close|fail|eof)──┴──(recv-close|fail|eof|timeout)
 *
 * (awaiting-accept leaves for closed on reject, abort, fail, eof and timeout.) One deadline
 * outlives the WebSocket: in closed, until the transport is finished (our FIN sent and the
 * peer's received), `closeTimeout` still runs and its `timeout` destroys the transport. The
 * table lists it as closed's only row, which leaves the state where it is.
 */

export type ConnectionState = 'handshake' | 'awaiting-accept' | 'open' | 'closing' | 'closed';

export type TransitionInput =
  /** Server: a valid upgrade request arrived. */
  | 'request'
  /** Server: the application accepted it. */
  | 'accept'
  /** Server: the application refused it; client: the server refused us. */
  | 'reject'
  /** Client: a valid 101 arrived. */
  | 'response'
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

const TABLE: Readonly<Record<ConnectionState, Partial<Record<TransitionInput, ConnectionState>>>> = {
  handshake: {
    request: 'awaiting-accept',
    response: 'open',
    reject: 'closed',
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
  open: { 'send-close': 'closing', 'recv-close': 'closed', fail: 'closed', eof: 'closed' },
  closing: { 'recv-close': 'closed', fail: 'closed', eof: 'closed', timeout: 'closed' },
  closed: { timeout: 'closed' },
};

/** The state after `input`, or null if `input` is not allowed in `state`. */
export function transition(state: ConnectionState, input: TransitionInput): ConnectionState | null {
  return TABLE[state][input] ?? null;
}

/** Every (state, input, next) triple, for documentation and tests. */
export function transitionTable(): Array<[ConnectionState, TransitionInput, ConnectionState]> {
  const rows: Array<[ConnectionState, TransitionInput, ConnectionState]> = [];
  for (const [state, inputs] of Object.entries(TABLE) as Array<
    [ConnectionState, Partial<Record<TransitionInput, ConnectionState>>]
  >) {
    for (const [input, next] of Object.entries(inputs) as Array<[TransitionInput, ConnectionState]>)
      rows.push([state, input, next]);
  }
  return rows;
}
