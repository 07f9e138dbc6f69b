/**
 * The one way this codec compares what the RFCs call case-insensitive: header field names
 * (RFC 9110 §5.1), list tokens such as `Upgrade: websocket` and `Connection: upgrade` (§7.8,
 * §7.6.1), extension and extension-parameter names (RFC 6455 §9.1), URL schemes and hosts,
 * origins (RFC 6454 §4). "Case-insensitive" in these RFCs means ASCII case: only A–Z fold to
 * a–z. `String.prototype.toLowerCase` folds far more (U+212A KELVIN SIGN becomes `k`, U+0130
 * becomes two chars), so it is never used on such text: two parts of the handshake that fold
 * differently let a peer pass one check and fail the next (a `PerMessage-Deflate` offer once
 * negotiated, then refused as "not offered", a 500). (On ASCII-only text the two agree, and
 * `foldAscii` uses it there.)
 *
 * Every such comparison in `http/`, `handshake/`, `extensions/` and `connection.ts` goes
 * through these functions; `test/ascii-case.test.ts` greps those sources for any other.
 */

/** `text` with A–Z lowered and nothing else changed: `text` itself when it has no A–Z. */
export function foldAscii(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return foldFrom(text, i);
  }
  return text;
}

function foldFrom(text: string, first: number): string {
  // All ASCII (every header name): there toLowerCase lowers A–Z and nothing else, in one string
  // made natively (the loop below makes one per char). Only past ASCII does it fold more.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text.toLowerCase();
  let out = text.slice(0, first);
  for (let i = first; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : text.charAt(i);
  }
  return out;
}

/** `a` and `b` are equal ignoring ASCII case. Makes no string. */
export function sameAsciiCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}

/**
 * `text` from `start` holds `lower` (already folded, see {@link foldAscii}), ignoring ASCII
 * case; the caller has checked there is room. Makes no string: the head parser and the list
 * scanners compare where the text lies.
 */
export function equalsLowerAt(text: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = text.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
