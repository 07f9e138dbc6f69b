/**
 * A whole message as either side of a connection saw it, and the comparisons the
 * conversation oracles make between what was sent and what arrived.
 */
/** A received message, whole (assembled, or gathered from streaming fragments). */
export type Message = { kind: 'text' | 'binary'; data: Uint8Array };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameMessages(a: Message[], b: Message[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.kind !== b[i]!.kind || !sameBytes(a[i]!.data, b[i]!.data)) return false;
  }
  return true;
}

export function isPrefix(a: Message[], b: Message[]): boolean {
  return a.length <= b.length && sameMessages(a, b.slice(0, a.length));
}
