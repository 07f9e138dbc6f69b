/**
 * A chat room as an application handler: what you pass to `createServer` on any runtime
 * (`@ws/node`, `@ws/deno`, `@ws/bun`). It knows nothing of sockets, so it can be tested without
 * any (see test/chat.test.ts).
 *
 * - Auth: the upgrade must carry `?token=…` from `tokens`; anything else is refused with 401.
 * - Messages are JSON: `{ type: 'say', text }` in; `welcome`, `joined`, `said`, `left` out.
 *   Anything else (or a text over 500 characters) closes that connection with 1008.
 * - Heartbeat: the server pings every `heartbeat.interval` ms; a client that has not answered
 *   within `heartbeat.timeout` ms is dropped, and the room is told it left on a timeout.
 */
import type { ConnectionHandler, ServerSessionOptions, Timers, WebSocketConnection } from '@ws/codec/session';

export interface ChatConfig {
  /** Token → user name. */
  tokens: Readonly<Record<string, string>>;
  heartbeat?: { interval: number; timeout: number };
  /** Injected time (a test's fake clock); default the host's. */
  timers?: Timers;
  clock?: () => number;
}

export type ChatEvent =
  | { type: 'welcome'; name: string; members: string[] }
  | { type: 'joined'; name: string }
  | { type: 'said'; from: string; text: string }
  | { type: 'left'; name: string; reason: 'bye' | 'timeout' | 'error' };

export interface Chat {
  /** For `createServer(chat.options, chat.onConnection)`. */
  options: ServerSessionOptions;
  onConnection: ConnectionHandler;
  /** Who is in the room, in order of joining. */
  members(): string[];
}

const MAX_TEXT = 500;

export function createChat(config: ChatConfig): Chat {
  const members = new Map<WebSocketConnection, string>();
  const heartbeat = config.heartbeat ?? { interval: 30_000, timeout: 10_000 };

  const broadcast = (event: ChatEvent): void => {
    const text = JSON.stringify(event);
    for (const ws of members.keys()) ws.send(text);
  };

  const options: ServerSessionOptions = {
    verifyClient: (request) => {
      const token = new URLSearchParams(request.query).get('token');
      return token !== null && Object.hasOwn(config.tokens, token) ? true : { status: 401, body: 'unknown token' };
    },
    timeouts: { keepaliveInterval: heartbeat.interval, keepaliveTimeout: heartbeat.timeout },
    ...(config.timers !== undefined ? { timers: config.timers } : {}),
    ...(config.clock !== undefined ? { clock: config.clock } : {}),
  };

  const onConnection: ConnectionHandler = (ws, request) => {
    const name = config.tokens[new URLSearchParams(request.query).get('token')!]!;
    ws.send(JSON.stringify({ type: 'welcome', name, members: [...members.values()] } satisfies ChatEvent));
    broadcast({ type: 'joined', name });
    members.set(ws, name);

    ws.on('message', (data) => {
      let event: { type?: unknown; text?: unknown };
      try {
        event = JSON.parse(typeof data === 'string' ? data : '') as typeof event;
      } catch {
        event = {};
      }
      if (event.type !== 'say' || typeof event.text !== 'string' || event.text.length > MAX_TEXT) {
        ws.close(1008, 'expected { type: "say", text } with at most 500 characters');
        return;
      }
      broadcast({ type: 'said', from: name, text: event.text });
    });
    ws.on('error', () => {}); // the close info says why; nothing to log here
    ws.on('close', (info) => {
      members.delete(ws);
      const reason = info.error === 'PONG_TIMEOUT' ? 'timeout' : info.error === null ? 'bye' : 'error';
      broadcast({ type: 'left', name, reason });
    });
  };

  return { options, onConnection, members: () => [...members.values()] };
}
