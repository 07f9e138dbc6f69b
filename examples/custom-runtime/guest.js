// Runs INSIDE QuickJS, right after the codec bundle (which defined the global `WsCodec`).
//
// QuickJS has no TextEncoder/TextDecoder, no crypto, no timers, no Buffer, no URL, no console.
// The host injected the only two things a connection needs from outside, as `__host`:
//   __host.random(n) → an ArrayBuffer of n random bytes (the host's CSPRNG)
//   __host.now()     → milliseconds (the host's clock), passed to the codec as tick(now)
// and drives one connection through the `guest` object below.
//
// Across the boundary: wire bytes travel as ArrayBuffers (copied into/out of the QuickJS heap);
// commands and events travel as JSON, with bytes as {"$bytes": [..]} and headers as
// {"$headers": [[name, value], ..]}.
(function () {
  'use strict';
  const { serverConnection, clientConnection, HttpHeaders } = WsCodec;

  /** A RandomSource (fills its argument), backed by the host. */
  const random = (bytes) => {
    bytes.set(new Uint8Array(__host.random(bytes.length)));
  };

  const replacer = (key, value) => {
    if (value instanceof Uint8Array) return { $bytes: Array.from(value) };
    if (value instanceof HttpHeaders) return { $headers: value.entries() };
    return value;
  };
  const reviver = (key, value) =>
    value !== null && typeof value === 'object' && Array.isArray(value.$bytes) ? Uint8Array.from(value.$bytes) : value;

  let conn = null;
  const current = () => {
    if (conn === null) throw new Error('no connection: call guest.client() or guest.server() first');
    return conn;
  };

  globalThis.guest = {
    /** What this engine has, as `typeof` of each host global a codec might reach for. */
    environment() {
      return JSON.stringify({
        TextEncoder: typeof TextEncoder,
        TextDecoder: typeof TextDecoder,
        crypto: typeof crypto,
        setTimeout: typeof setTimeout,
        queueMicrotask: typeof queueMicrotask,
        Buffer: typeof Buffer,
        URL: typeof URL,
        process: typeof process,
        require: typeof require,
        console: typeof console,
      });
    },
    client(url, optionsJson) {
      conn = clientConnection(url, { ...JSON.parse(optionsJson), random });
    },
    server(optionsJson) {
      // A server never masks and makes no key: it needs no random source at all.
      conn = serverConnection(JSON.parse(optionsJson));
    },
    receiveData(buffer) {
      current().receiveData(new Uint8Array(buffer));
    },
    receiveEof() {
      current().receiveEof();
    },
    send(commandJson) {
      current().send(JSON.parse(commandJson, reviver));
    },
    /** Pending events, as JSON. */
    takeEvents() {
      return JSON.stringify(current().takeEvents(), replacer);
    },
    /** Pending outputs; each write's bytes as an ArrayBuffer of their own. */
    takeOutput() {
      return current()
        .takeOutput()
        .map((output) =>
          output.type === 'write' ? { type: 'write', data: output.data.slice().buffer } : { type: output.type },
        );
    },
    nextDeadline() {
      return current().nextDeadline();
    },
    /** The codec reads no clock: the time goes in here (a deadline of 0 means tick at once). */
    tick() {
      current().tick(__host.now());
    },
    state() {
      return current().state;
    },
    finished() {
      return current().finished;
    },
  };
})();
