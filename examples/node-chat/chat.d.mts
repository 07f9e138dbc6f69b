// Types for chat.mjs (plain JavaScript, so that Node 20 runs it without a build step).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocketConnection } from '@ws/node';

export interface ChatOptions {
  /** One line per join, leave and connection error. */
  log?: (line: string) => void;
}

export interface ChatServer {
  /** The `node:http` server: the page at `/`, WebSocket upgrades at `/ws`. */
  server: Server;
  /** Who is in the room. */
  room: Map<string, WebSocketConnection>;
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Close every chat connection with `code` (default 1001 "server shutting down"), then the HTTP server. */
  close(code?: number, reason?: string): Promise<void>;
}

export function createChatServer(options?: ChatOptions): ChatServer;
