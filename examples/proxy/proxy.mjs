/**
 * A WebSocket reverse proxy on `@ws/node` that forwards frame by frame, never a whole message.
 *
 * Both legs run in streaming mode (`assembleMessages: false`): every `fragment` event from one
 * side becomes one `sendFragment` on the other, so a 16 MiB message crosses the proxy in
 * socket-sized pieces and its first bytes reach the far side before its last bytes left the
 * near side. The codec does the protocol work on each leg: it unmasks what the client sent,
 * masks what goes upstream (a client connection must), checks UTF-8 incrementally on text, and
 * answers the close handshake.
 *
 *   client ──(server leg)── proxy ──(client leg, masked)── upstream
 *
 * - Handshake: the upstream connection is opened while the client's upgrade request waits (in
 *   `verifyClient`), so the client gets the subprotocol the upstream chose, and an upstream that
 *   refuses (its status and body) or cannot be reached (502; 504 on a handshake timeout) is
 *   refused to the client the same way.
 * - Pings and pongs are forwarded end to end (auto-pong is off on both legs), so a ping measures
 *   the whole path and its payload is kept.
 * - Backpressure: when the leg being written to has `highWaterMark` bytes waiting, the leg being
 *   read from is paused; it resumes on the writer's drain (`lowWaterMark`).
 * - Closing: a Close frame's code and reason are passed on once that leg is closed. A leg that
 *   ends without one (dropped, failed, timed out) closes the other with 1001 "client went away"
 *   (toward the upstream) or 1011 "upstream connection lost" (toward the client).
 *
 * Hop by hop, not end to end: the proxy answers each Close itself and then closes the other leg
 * with the same code, so data the far side sends after the near side's Close is dropped (as it
 * would be anyway once that side has closed). Frame boundaries may change on the way, which RFC
 * 6455 §5.4 allows an intermediary when no extension is negotiated; none is (compression would
 * need the proxy to inflate and deflate every message).
 */
import { createConnection, createServer } from '@ws/node';

const MiB = 1024 * 1024;

/**
 * @param {import('./proxy.d.mts').ProxyOptions} options
 * @returns {import('./proxy.d.mts').Proxy}
 */
export function createProxy(options) {
  const { upstream, highWaterMark = MiB, lowWaterMark, limits, timeouts, log = () => {} } = options ?? {};
  const base = new URL(upstream);
  if (base.protocol !== 'ws:' && base.protocol !== 'wss:')
    throw new TypeError(`upstream must be a ws: or wss: URL, got ${upstream}`);
  // The same settings on both legs. Neither leg buffers a message, so maxMessageSize only caps
  // what a peer may stream through (the codec still counts every message's bytes).
  const leg = { assembleMessages: false, autoPong: false, highWaterMark, lowWaterMark, limits, timeouts };

  /** Upstream connections opened for a client's request, until that client's side is open. */
  const waiting = new Map();
  /** @type {Set<import('./proxy.d.mts').ProxyPair>} */
  const pairs = new Set();
  const unclaimed = new Set();

  const server = createServer(
    {
      ...leg,
      // Ask the upstream first; accept the client only once the upstream has.
      verifyClient: (request) => openUpstream(request),
      protocols: (_offered, request) => waiting.get(request)?.upstream.protocol || null,
    },
    (client, request) => {
      const entry = waiting.get(request);
      waiting.delete(request);
      join(client, entry);
    },
  );

  async function openUpstream(request) {
    const target = new URL(base);
    target.pathname = base.pathname.replace(/\/$/, '') + request.path;
    target.search = request.query;
    const forwardedFor = [request.headers.get('x-forwarded-for'), request.remoteAddress].filter(Boolean).join(', ');
    const headers = [
      ['X-Forwarded-Proto', request.secure ? 'wss' : 'ws'],
      ['X-Forwarded-Host', request.host],
    ];
    if (forwardedFor) headers.push(['X-Forwarded-For', forwardedFor]);
    for (const name of ['cookie', 'authorization', 'user-agent']) {
      const value = request.headers.get(name);
      if (value !== null) headers.push([name, value]);
    }
    let upstream;
    try {
      upstream = createConnection(target.href, {
        ...leg,
        protocols: request.protocols,
        origin: request.origin,
        headers,
      });
    } catch (error) {
      log(`upstream ${target.href}: ${error.message}`);
      return { status: 502 };
    }
    // The upstream may speak first: its first frames can arrive with its 101, before the client
    // is accepted. Keep those (at most one read: reading pauses at 'open') until then.
    const early = [];
    const keep =
      (type) =>
      (...args) =>
        early.push([type, args]);
    const keepers = { fragment: keep('fragment'), ping: keep('ping'), pong: keep('pong') };
    for (const type in keepers) upstream.on(type, keepers[type]);
    upstream.once('open', () => upstream.pause());
    upstream.on('error', () => {}); // reported through `closed`
    unclaimed.add(upstream);
    try {
      await upstream.opened;
    } catch (error) {
      unclaimed.delete(upstream);
      log(`upstream ${target.href} failed: ${error.status ?? error.code} ${error.message}`);
      if (typeof error.status === 'number' && error.status !== 101)
        return { status: error.status, body: error.body ?? undefined };
      return { status: error.code === 'HANDSHAKE_TIMEOUT' ? 504 : 502 };
    }
    waiting.set(request, { upstream, early, keepers });
    // Accepting the client runs in the microtask after this returns; if the client left meanwhile
    // (its handshake timed out, it hung up), nobody claims this upstream.
    setImmediate(() => {
      if (waiting.get(request)?.upstream !== upstream) return;
      waiting.delete(request);
      unclaimed.delete(upstream);
      upstream.close(1001, 'client went away');
    });
    return true;
  }

  function join(client, { upstream, early, keepers }) {
    unclaimed.delete(upstream);
    for (const type in keepers) upstream.off(type, keepers[type]);
    const pair = { client, upstream };
    pairs.add(pair);
    log(
      `open ${client.request.remoteAddress}:${client.request.remotePort} ${client.request.url} ⇄ ${upstream.url}${client.protocol ? ` (${client.protocol})` : ''}`,
    );
    client.on('error', () => {}); // reported through `closed`
    const toUpstream = relay(client, upstream);
    const toClient = relay(upstream, client);
    toClient.replay(early);
    toUpstream.start();
    toClient.start();
    client.closed.then((info) => {
      pairs.delete(pair);
      log(`client closed ${info.code}${info.reason ? ` ${info.reason}` : ''}${info.error ? ` (${info.error})` : ''}`);
      passClose(info, upstream, 1001, 'client went away');
    });
    upstream.closed.then((info) => {
      pairs.delete(pair);
      log(`upstream closed ${info.code}${info.reason ? ` ${info.reason}` : ''}${info.error ? ` (${info.error})` : ''}`);
      passClose(info, client, 1011, 'upstream connection lost');
    });
  }

  return {
    server,
    pairs,
    listen: (port, host) => server.listen(port, host),
    address: () => server.address(),
    async close(code = 1001, reason = 'proxy shutting down') {
      for (const upstream of unclaimed) upstream.terminate();
      const closing = [];
      for (const { upstream } of pairs) {
        upstream.resume();
        upstream.close(code, reason);
        closing.push(upstream.closed);
      }
      await Promise.all([server.close(code, reason), ...closing]);
    },
  };
}

/**
 * Forward `from`'s data and control frames to `to`, one frame for each fragment event, pausing
 * `from` while `to` has too much waiting.
 */
function relay(from, to) {
  let blocked = false;
  const check = (result) => {
    if (result !== 'buffered' || blocked) return;
    blocked = true;
    from.pause();
    to.drain().then(() => {
      blocked = false;
      from.resume();
    });
  };
  const handlers = {
    fragment: (data, info) => check(to.sendFragment(data, info.fin, { kind: info.kind })),
    ping: (data) => check(to.ping(data)),
    pong: (data) => check(to.pong(data)),
  };
  return {
    replay(events) {
      for (const [type, args] of events) handlers[type](...args);
    },
    start() {
      for (const type in handlers) from.on(type, handlers[type]);
      if (!blocked) from.resume();
    },
  };
}

/** Close `to` as `info` says its partner ended: with the partner's Close code and reason, else with the fallback. */
function passClose(info, to, fallbackCode, fallbackReason) {
  if (to.readyState === 'closing' || to.readyState === 'closed') return;
  to.resume(); // read the close reply even if backpressure had paused this leg
  const passOn = info.initiator === 'remote' && info.error === null && info.code !== 1006;
  try {
    if (passOn && info.code === 1005)
      to.close(); // the peer's Close had no code: neither has ours
    else if (passOn) to.close(info.code, info.reason);
    else to.close(fallbackCode, fallbackReason);
  } catch {
    to.close(fallbackCode, fallbackReason);
  }
}
