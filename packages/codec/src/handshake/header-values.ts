/**
 * The handshake's header-value grammars: comma-separated lists (RFC 9110 §5.6.1) of tokens
 * (`Connection`, `Sec-WebSocket-Protocol`) or of protocols (`Upgrade`, RFC 9110 §7.8), and the
 * `Sec-WebSocket-Extensions` grammar (RFC 6455 §9.1), parsed and formatted. Each parser is a
 * single left-to-right scan, so even hostile values cost linear time. Deciding what the
 * values mean is left to `server.ts` and `client.ts`.
 */
import { WebSocketUsageError, describe } from '../errors.ts';
import type { ExtensionOffer, ExtensionParam } from '../extensions/extension.ts';
import { equalsLowerAt } from '../http/ascii-case.ts';

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;

// RFC 9110 §5.6.2 tchar, by char code (below 128; nothing above is a tchar).
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TCHAR[c.charCodeAt(0)] = 1;

function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTchar(text.charCodeAt(i))) return false;
  return true;
}

function skipOws(value: string, i: number): number {
  while (i < value.length) {
    const c = value.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

function scanToken(value: string, i: number): number {
  while (i < value.length && isTchar(value.charCodeAt(i))) i++;
  return i;
}

/**
 * A `#element` list (RFC 9110 §5.6.1): elements separated by commas with optional whitespace;
 * empty elements are allowed and skipped. Each element is a token, or with `slash` a
 * `token ["/" token]` (RFC 9110 §7.8 protocol). Null on anything else.
 */
function parseList(value: string, slash: boolean): string[] | null {
  if (typeof value !== 'string') return null;
  const out: string[] = [];
  return scanList(value, slash, null, out) < 0 ? null : out;
}

/**
 * Whether the list `value` (as {@link parseList} reads it) names `lower` (lower case), ignoring
 * case: 1 if it does, 0 if not, -1 if the list is malformed. Makes no list.
 */
export function listNames(value: string, lower: string, slash: boolean): 1 | 0 | -1 {
  return scanList(value, slash, lower, null);
}

/**
 * One scan of a list: -1 if malformed; else 1 if an element is `lower` (ignoring ASCII case),
 * 0 if not (or no `lower`). Elements are pushed to `out` if given.
 */
function scanList(value: string, slash: boolean, lower: string | null, out: string[] | null): 1 | 0 | -1 {
  const n = value.length;
  let found: 1 | 0 = 0;
  let i = 0;
  for (;;) {
    i = skipOws(value, i);
    if (i >= n) return found;
    if (value.charCodeAt(i) === COMMA) {
      i++;
      continue;
    }
    const start = i;
    i = scanToken(value, i);
    if (i === start) return -1;
    if (slash && i < n && value.charCodeAt(i) === SLASH) {
      const after = i + 1;
      i = scanToken(value, after);
      if (i === after) return -1;
    }
    if (out !== null) out.push(value.slice(start, i));
    if (lower !== null && found === 0 && i - start === lower.length && equalsLowerAt(value, start, lower)) found = 1;
    i = skipOws(value, i);
    if (i < n && value.charCodeAt(i) !== COMMA) return -1;
  }
}

/** A comma-separated token list (RFC 9110 §5.6.1), empty elements skipped; null if an element is not a token. */
export function parseTokenList(value: string): string[] | null {
  return parseList(value, false);
}

/** An `Upgrade` value (RFC 9110 §7.8): a list of `protocol-name ["/" protocol-version]`; null on bad syntax. */
export function parseUpgradeList(value: string): string[] | null {
  return parseList(value, true);
}

// RFC 9110 §5.6.4 qdtext and the second char of a quoted-pair.
function isQdtext(code: number): boolean {
  return (
    code === HTAB ||
    code === SP ||
    code === 0x21 ||
    (code >= 0x23 && code <= 0x5b) ||
    (code >= 0x5d && code <= 0x7e) ||
    (code >= 0x80 && code <= 0xff)
  );
}
function isQuotedPairChar(code: number): boolean {
  return code === HTAB || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}

/**
 * `Sec-WebSocket-Extensions` (RFC 6455 §9.1):
 *
 *     extension-list  = 1#extension
 *     extension       = extension-token *( ";" extension-param )
 *     extension-param = token [ "=" (token | quoted-string) ]
 *
 * with optional whitespace around the separators. A quoted value is unescaped and must then
 * be a token itself (§9.1). Empty list elements are skipped, so an empty value gives `[]`.
 * Returns null on any syntax error.
 */
export function parseExtensionHeader(value: string): ExtensionOffer[] | null {
  if (typeof value !== 'string') return null;
  const offers: ExtensionOffer[] = [];
  const n = value.length;
  let i = 0;
  for (;;) {
    i = skipOws(value, i);
    if (i >= n) return offers;
    if (value.charCodeAt(i) === COMMA) {
      i++;
      continue;
    }
    let start = i;
    i = scanToken(value, i);
    if (i === start) return null;
    const offer: ExtensionOffer = { name: value.slice(start, i), params: [] };
    offers.push(offer);
    for (;;) {
      i = skipOws(value, i);
      if (i >= n || value.charCodeAt(i) === COMMA) break;
      if (value.charCodeAt(i) !== SEMICOLON) return null;
      i = skipOws(value, i + 1);
      start = i;
      i = scanToken(value, i);
      if (i === start) return null;
      const param: ExtensionParam = { name: value.slice(start, i), value: null };
      offer.params.push(param);
      i = skipOws(value, i);
      if (i >= n || value.charCodeAt(i) !== EQUALS) continue;
      i = skipOws(value, i + 1);
      if (i < n && value.charCodeAt(i) === DQUOTE) {
        i++;
        let text = '';
        let run = i;
        for (;;) {
          if (i >= n) return null; // unterminated quoted-string
          const c = value.charCodeAt(i);
          if (c === DQUOTE) break;
          if (c === BACKSLASH) {
            if (i + 1 >= n || !isQuotedPairChar(value.charCodeAt(i + 1))) return null;
            text += value.slice(run, i);
            run = i + 1; // the escaped char starts the next run
            i += 2;
          } else if (isQdtext(c)) {
            i++;
          } else {
            return null;
          }
        }
        text += value.slice(run, i);
        i++; // closing quote
        // §9.1: after unescaping, a quoted value must conform to the token ABNF.
        if (!isToken(text)) return null;
        param.value = text;
      } else {
        start = i;
        i = scanToken(value, i);
        if (i === start) return null;
        param.value = value.slice(start, i);
      }
    }
  }
}

/**
 * The `Sec-WebSocket-Extensions` value for `offers`: `name; param; param=value, name2`.
 * Names and values must be tokens: §9.1 requires a value to be a token even when quoted, so a
 * conforming value never needs quotes and none are written. Throws WebSocketUsageError
 * ('INVALID_ARGUMENT') on anything else.
 */
export function formatExtensionHeader(offers: readonly ExtensionOffer[]): string {
  if (!Array.isArray(offers)) {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `extension offers must be an array, got ${describe(offers)}`);
  }
  const parts: string[] = [];
  for (const offer of offers) {
    if (typeof offer !== 'object' || offer === null || !isToken(offer.name) || !Array.isArray(offer.params)) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `an extension offer must be { name: token, params: [] }, got ${describe(offer?.name ?? offer)}`,
      );
    }
    let part = offer.name;
    for (const param of offer.params) {
      if (typeof param !== 'object' || param === null || !isToken(param.name)) {
        throw new WebSocketUsageError(
          'INVALID_ARGUMENT',
          `extension parameter names must be tokens, got ${describe(param?.name ?? param)} in ${offer.name}`,
        );
      }
      part += `; ${param.name}`;
      if (param.value === null || param.value === undefined) continue;
      if (!isToken(param.value)) {
        throw new WebSocketUsageError(
          'INVALID_ARGUMENT',
          `extension parameter values must be tokens (RFC 6455 §9.1), got ${describe(param.value)} for ${offer.name}; ${param.name}`,
        );
      }
      part += `=${param.value}`;
    }
    parts.push(part);
  }
  return parts.join(', ');
}
