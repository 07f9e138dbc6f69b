// Types for room.mjs (plain JavaScript shared by the Node, Deno and Bun chat examples). No
// imports: each runtime's WebSocketConnection fits `RoomPeer` structurally.

/** What the room needs of a connection (the session's WebSocketConnection on every runtime). */
export interface RoomPeer {
  send(data: string): unknown;
  close(code?: number, reason?: string): unknown;
  /** 'message' (data, isBinary), 'close' ({ code, reason }) and 'error' ({ code, message }). */
  // biome-ignore lint/suspicious/noExplicitAny: each runtime's connection has its own typed listeners; any makes them all fit
  on(type: 'message' | 'close' | 'error', listener: (...args: any[]) => void): unknown;
}

export interface Room<Peer extends RoomPeer> {
  /** Who is in the room, by name. */
  people: Map<string, Peer>;
  /** Hand a new connection to the room: it joins, or is closed (1008 bad name, 4009 taken). */
  join(ws: Peer, request: { query: string; remoteAddress: string | null }): void;
}

export function createRoom<Peer extends RoomPeer>(log?: (line: string) => void): Room<Peer>;

export interface ChatServerOptions<Extension> {
  origins: (origin: string | null, head: { headers: { get(name: string): string | null } }) => boolean;
  limits: { maxMessageSize: number };
  extensions: Extension[];
  highWaterMark: number;
  maxBufferedAmount: number;
  timeouts: { keepaliveInterval: number };
}

/** The WebSocket server options every chat example uses, with the runtime's extensions. */
export function chatServerOptions<Extension>(extensions: Extension[]): ChatServerOptions<Extension>;

export interface ChatHttpOptions {
  verifyClient(request: { path: string }): true | { status: number; body: string };
  fetch(request: Request): Response;
}

/** The page at `/` through `fetch`, 426 for a plain GET of `/ws`, 404 elsewhere; upgrades at `/ws` only. */
export function chatHttpOptions(page: Uint8Array): ChatHttpOptions;
