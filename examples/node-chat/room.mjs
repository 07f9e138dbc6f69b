// @ts-self-types="./room.d.mts"
/**
 * The chat room itself, shared by the Node, Deno and Bun chat examples: who is in it, the wire
 * protocol, and the WebSocket options a chat server wants. Plain JavaScript with no imports, so
 * Node 20 runs it without a build step and Deno and Bun import it as it is; each runtime's
 * `chat` file only adds its own listener and page serving.
 *
 *   page → server  { "type": "say", "text": "…" }
 *   server → page  { "type": "welcome", "name", "people" } once, then
 *                  { "type": "message", "from", "text", "at" } · { "type": "join" | "leave", "name" }
 * The name comes from the URL (`/ws?name=alice`). A name already in the room is closed with
 * 4009 "name taken"; anything but a well-formed `say` with 1008 (1003 for binary).
 */

const NAME = /^[\p{L}\p{N}_.-]{1,24}$/u;
const MAX_TEXT = 2000;

/** @type {import('./room.d.mts').chatServerOptions} */
export function chatServerOptions(extensions) {
  return {
    // A browser always sends Origin: accept only pages served by this server (no cross-site
    // WebSocket hijacking); tools that send no Origin are allowed.
    origins: (origin, head) => origin === null || origin === `http://${head.headers.get('host')}`,
    limits: { maxMessageSize: 16 * 1024 },
    // Browsers offer compression; accept it (messages under 1 KiB are still sent as they are).
    extensions,
    // A reader that stops reading is dropped once 1 MiB waits for it, rather than held in memory.
    highWaterMark: 256 * 1024,
    maxBufferedAmount: 1024 * 1024,
    // Find dead peers: a ping after 30 s of silence, closed if nothing comes back.
    timeouts: { keepaliveInterval: 30_000 },
  };
}

/** @type {import('./room.d.mts').createRoom} */
export function createRoom(log = () => {}) {
  const people = new Map();
  let guests = 0;

  const broadcast = (message) => {
    const data = JSON.stringify(message);
    for (const peer of people.values()) peer.send(data);
  };

  const join = (ws, request) => {
    const asked = new URLSearchParams(request.query).get('name')?.trim() || `guest-${++guests}`;
    ws.on('error', (error) => log(`${asked}: ${error.code} ${error.message}`));
    if (!NAME.test(asked)) return ws.close(1008, 'bad name: 1-24 letters, digits, _ . -');
    if (people.has(asked)) return ws.close(4009, 'name taken');
    const name = asked;
    people.set(name, ws);
    log(`${name} joined from ${request.remoteAddress}`);
    ws.send(JSON.stringify({ type: 'welcome', name, people: [...people.keys()] }));
    broadcast({ type: 'join', name });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text only');
      let message;
      try {
        message = JSON.parse(data);
      } catch {
        return ws.close(1008, 'not JSON');
      }
      if (message?.type !== 'say' || typeof message.text !== 'string' || message.text.length > MAX_TEXT)
        return ws.close(1008, 'bad message');
      const text = message.text.trim();
      if (text !== '') broadcast({ type: 'message', from: name, text, at: Date.now() });
    });
    ws.on('close', (info) => {
      people.delete(name);
      log(`${name} left (${info.code}${info.reason ? ` ${info.reason}` : ''})`);
      broadcast({ type: 'leave', name });
    });
  };

  return { people, join };
}

/**
 * The plain-HTTP side of a chat server that answers on its WebSocket's port through `fetch`
 * (the Deno and Bun examples): the page at `/`, 426 for a plain GET of `/ws`, 404 elsewhere;
 * upgrades are accepted at `/ws` only (`verifyClient`). Uses the host's `Response` and `URL`.
 * @type {import('./room.d.mts').chatHttpOptions}
 */
export function chatHttpOptions(page) {
  return {
    verifyClient: (request) => request.path === '/ws' || { status: 404, body: 'not found\n' },
    fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname === '/ws')
        return new Response('upgrade required\n', { status: 426, headers: { upgrade: 'websocket' } });
      if (pathname !== '/' && pathname !== '/index.html') return new Response('not found\n', { status: 404 });
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return new Response('GET only\n', { status: 405, headers: { allow: 'GET, HEAD' } });
      return new Response(page, {
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
      });
    },
  };
}
