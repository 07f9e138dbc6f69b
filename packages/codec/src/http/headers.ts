/**
 * HTTP header fields as received or to be sent (RFC 9110 §5). Names compare
 * case-insensitively; order and repeats are kept, so nothing the peer said is lost.
 */
import { WebSocketUsageError, describe } from '../errors.ts';
import { equalsLowerAt, foldAscii } from './ascii-case.ts';

export { equalsLowerAt } from './ascii-case.ts';

/** Headers a caller may pass: a list of pairs, a record, or an {@link HttpHeaders}. */
export type HeadersInit =
  | ReadonlyArray<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[]>>
  | HttpHeaders;

// RFC 9110 §5.6.2 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 §5.5: field-value = visible chars, SP, HTAB and obs-text; no CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/**
 * `name` equals `lower` (already lower-case) case-insensitively; most names differ in length.
 * Field names are tokens (ASCII), so only A-Z fold, compared in place: `toLowerCase()` would
 * make a string per comparison.
 */
function sameName(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || equalsLowerAt(name, 0, lower));
}

/** `name` folded (ASCII case): itself when it already is (no string made), as most lookups' names are. */
const lowerName = foldAscii;

/** @internal Adopt fields the head parser checked, `[name0, value0, name1, value1, …]`, without copying. */
export let trustedHeaders: (fields: string[]) => HttpHeaders;

/** @internal How many fields are called `lower` (lower case): `getAll(name).length` without the array. */
export let fieldCount: (headers: HttpHeaders, lower: string) => number;

export class HttpHeaders {
  // Flat, `[name0, value0, name1, value1, …]`: a server keeps every connection's request headers,
  // and one array costs far less than an array per field. Its length is even, so every index
  // read below (i, i + 1 for i < length, i even) holds a string: `fields[i] ?? ''` is for the
  // type checker (`noUncheckedIndexedAccess`).
  #fields: string[] = [];

  constructor(init?: HeadersInit) {
    if (init !== undefined) this.addAll(init);
  }

  static {
    trustedHeaders = (fields) => {
      const headers = new HttpHeaders();
      headers.#fields = fields;
      return headers;
    };
    fieldCount = (headers, lower) => {
      const fields = headers.#fields;
      let count = 0;
      for (let i = 0; i < fields.length; i += 2) if (sameName(fields[i] ?? '', lower)) count++;
      return count;
    };
  }

  /** Wraps pairs the parser already checked, without validating. */
  static fromTrusted(entries: Array<[string, string]>): HttpHeaders {
    const headers = new HttpHeaders();
    // A loop, not push(...entries): spreading a head with a raised maxHeaders (hundreds of
    // thousands of fields) overflows the call stack, and peer bytes must never throw.
    const fields = headers.#fields;
    for (const entry of entries) fields.push(entry[0], entry[1]);
    return headers;
  }

  /** All values of `name`, in order received. */
  getAll(name: string): string[] {
    const lower = lowerName(name);
    const fields = this.#fields;
    const values: string[] = [];
    for (let i = 0; i < fields.length; i += 2) {
      if (sameName(fields[i] ?? '', lower)) values.push(fields[i + 1] ?? '');
    }
    return values;
  }

  /** The values of `name` joined with `, ` (RFC 9110 §5.3), or null if absent. */
  get(name: string): string | null {
    const lower = lowerName(name);
    const fields = this.#fields;
    let found: string | null = null;
    for (let i = 0; i < fields.length; i += 2) {
      if (!sameName(fields[i] ?? '', lower)) continue;
      const value = fields[i + 1] ?? '';
      found = found === null ? value : `${found}, ${value}`;
    }
    return found;
  }

  has(name: string): boolean {
    const lower = lowerName(name);
    const fields = this.#fields;
    for (let i = 0; i < fields.length; i += 2) if (sameName(fields[i] ?? '', lower)) return true;
    return false;
  }

  /** Adds a field after checking the name is a token and the value holds no CR/LF/NUL. */
  append(name: string, value: string): void {
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `header name must be an HTTP token, got ${describe(name)}`);
    }
    if (typeof value !== 'string' || !FIELD_VALUE.test(value)) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `header ${name} must be a string without CR, LF or NUL, got ${describe(value)}`,
      );
    }
    this.#fields.push(name, value.trim());
  }

  /** Removes every field called `name`. */
  delete(name: string): void {
    const lower = lowerName(name);
    const fields = this.#fields;
    for (let i = fields.length - 2; i >= 0; i -= 2) {
      if (sameName(fields[i] ?? '', lower)) fields.splice(i, 2);
    }
  }

  /** Name/value pairs with names as received. */
  entries(): Array<[string, string]> {
    const fields = this.#fields;
    const out: Array<[string, string]> = [];
    for (let i = 0; i < fields.length; i += 2) out.push([fields[i] ?? '', fields[i + 1] ?? '']);
    return out;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries()[Symbol.iterator]();
  }

  /** A plain record with lower-case names, repeated fields joined with `, `. */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    const fields = this.#fields;
    for (let i = 0; i < fields.length; i += 2) {
      const lower = foldAscii(fields[i] ?? '');
      const v = fields[i + 1] ?? '';
      out[lower] = lower in out ? `${out[lower]}, ${v}` : v;
    }
    return out;
  }

  get size(): number {
    return this.#fields.length >>> 1;
  }

  // TypeScript-private, not #private: a #private method would give every instance a brand (a
  // field more in every request's headers).
  private addAll(init: HeadersInit): void {
    if (init instanceof HttpHeaders) {
      for (const field of init.#fields) this.#fields.push(field);
    } else if (Array.isArray(init)) {
      for (const pair of init as ReadonlyArray<readonly [string, string]>) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new WebSocketUsageError(
            'INVALID_ARGUMENT',
            `header pairs must be [name, value], got ${describe(pair)}`,
          );
        }
        this.append(pair[0], pair[1]);
      }
    } else if (typeof init === 'object' && init !== null) {
      for (const [n, v] of Object.entries(init as Record<string, string | readonly string[]>)) {
        if (Array.isArray(v)) for (const one of v) this.append(n, one);
        else this.append(n, v as string);
      }
    } else {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `headers must be pairs, a record or HttpHeaders, got ${describe(init)}`,
      );
    }
  }
}
