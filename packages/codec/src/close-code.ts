/**
 * Close status codes (RFC 6455 §7.4, IANA "WebSocket Close Code Number Registry").
 * Decides which codes an endpoint may put on the wire and which a peer may send us.
 */

export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved: never on the wire; means "the close frame had no status code" (§7.1.5). */
  NoStatus: 1005,
  /** Reserved: never on the wire; means "closed without a close frame" (§7.1.5). */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** Reserved: never on the wire; TLS handshake failure (§7.4.1). */
  TlsHandshake: 1015,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Codes that may appear in a close frame (§7.4.1, §7.4.2): the defined codes except the
 * reserved 1004, 1005, 1006 and 1015, plus the registered 1012–1014, plus 3000–4999 for
 * libraries, frameworks and applications. Everything else is invalid on the wire, and a
 * peer sending it fails the connection with 1002 (this matches Autobahn case 7.9.x).
 */
export function isValidWireCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 1000 && code <= 1014) return code !== 1004 && code !== 1005 && code !== 1006;
  return code >= 3000 && code <= 4999;
}
