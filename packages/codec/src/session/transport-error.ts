/**
 * What a runtime's socket error means, in words, for the messages of `HandshakeError` and
 * `WebSocketError`: "connection refused (ECONNREFUSED)", "TLS failure: self-signed certificate
 * (DEPTH_ZERO_SELF_SIGNED_CERT)". Node and Bun put an errno or OpenSSL name in `code`; Deno
 * names its error classes (`ConnectionRefused`, `InvalidData` for a bad certificate) and gives
 * some a `code` too. The runtime's error itself stays the `cause`.
 */

/** Where a failure happened, as far as its error tells: before a socket existed, in TLS, or later. */
export type TransportFailureKind = 'connect' | 'tls' | 'other';

export interface TransportFailure {
  kind: TransportFailureKind;
  /** E.g. `connection refused (ECONNREFUSED)`. */
  text: string;
}

/** Errno codes (Node, Bun, Deno's `code`) and Deno's error class names, in words. */
const WORDS: Readonly<Record<string, readonly [TransportFailureKind, string]>> = {
  ECONNREFUSED: ['connect', 'connection refused'],
  ConnectionRefused: ['connect', 'connection refused'],
  ENOTFOUND: ['connect', 'host not found'],
  EAI_AGAIN: ['connect', 'host not found (DNS lookup failed)'],
  EHOSTUNREACH: ['connect', 'host unreachable'],
  ENETUNREACH: ['connect', 'network unreachable'],
  EADDRNOTAVAIL: ['connect', 'address not available'],
  ETIMEDOUT: ['connect', 'timed out'],
  TimedOut: ['connect', 'timed out'],
  ECONNRESET: ['other', 'connection reset by peer'],
  ConnectionReset: ['other', 'connection reset by peer'],
  ECONNABORTED: ['other', 'connection aborted'],
  ConnectionAborted: ['other', 'connection aborted'],
  EPIPE: ['other', 'broken pipe (the peer closed the connection)'],
  BrokenPipe: ['other', 'broken pipe (the peer closed the connection)'],
};

const TLS_CODE = /CERT|SSL|TLS|_KEY_|HANDSHAKE|ISSUER|SIGNATURE/;
const TLS_MESSAGE = /certificate|\btls\b|\bssl\b/i;

/** `words (CODE)` for each entry of {@link WORDS}, made once: a busy server describes a reset per connection. */
const TEXTS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(WORDS).map(([tag, [, words]]) => [tag, `${words} (${tag})`]),
);

/** What {@link describeTransportError} found last: its kind (its text is returned). */
let lastKind: TransportFailureKind = 'other';

/** Describe a transport's error: its kind and `words (CODE)`. */
export function describeTransportError(error: unknown): TransportFailure {
  const text = transportErrorText(error);
  return { kind: lastKind, text };
}

/** `describeTransportError(error).text`, without the object (for a known code, a text made once). */
export function transportErrorText(error: unknown): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
  };
  const code = typeof e.code === 'string' && e.code !== '' ? e.code : null;
  const name = typeof e.name === 'string' && e.name !== 'Error' ? e.name : null;
  const message = typeof e.message === 'string' ? e.message : typeof error === 'string' ? error : String(error);
  const key =
    code !== null && WORDS[code] !== undefined ? code : name !== null && WORDS[name] !== undefined ? name : null;
  const tag = code ?? name;
  if (key !== null) {
    const known = WORDS[key] as readonly [TransportFailureKind, string];
    lastKind = known[0];
    return key === tag ? (TEXTS[key] as string) : `${known[1]} (${tag})`;
  }
  // The proxy refused the tunnel, or could not be reached (session/proxy.ts): its message says which.
  if (name === 'ProxyError') {
    lastKind = 'connect';
    return message;
  }
  if ((code !== null && TLS_CODE.test(code)) || TLS_MESSAGE.test(message) || name === 'InvalidData') {
    lastKind = 'tls';
    return `TLS failure: ${message}${tag !== null ? ` (${tag})` : ''}`;
  }
  lastKind = 'other';
  return tag !== null && !message.includes(tag) ? `${message} (${tag})` : message;
}

/** A client's handshake failed on the transport: what to say, naming the server `host:port`. */
export function handshakeTransportMessage(error: unknown, server: string): string {
  const failure = describeTransportError(error);
  switch (failure.kind) {
    case 'connect':
      return `could not connect to ${server}: ${failure.text}`;
    case 'tls':
      return `TLS handshake with ${server} failed: ${failure.text}`;
    default:
      return `the connection to ${server} failed during the WebSocket handshake: ${failure.text}`;
  }
}
