// An incremental, fail-fast UTF-8 validator (RFC 3629): feed bytes in any split; it reports the
// first byte that makes the sequence invalid, and whether the input so far ends on a code point
// boundary. Used to judge the peer's text messages and close reasons, and by the test mini-peer.
//
// The well-formed sequences (RFC 3629 §4):
//   00..7F | C2..DF 80..BF | E0 A0..BF 80..BF | E1..EC 80..BF 80..BF | ED 80..9F 80..BF
//   | EE..EF 80..BF 80..BF | F0 90..BF 80..BF 80..BF | F1..F3 80..BF{3} | F4 80..8F 80..BF 80..BF
// Overlong forms, surrogates (ED A0..BF) and code points above U+10FFFF are rejected at the
// first byte that rules them out.

export class Utf8Validator {
  #need = 0; // continuation bytes still expected for the current code point
  #lower = 0x80; // bounds for the next continuation byte
  #upper = 0xbf;
  #failed = false;

  /** Feed bytes; false once the input can no longer be valid UTF-8 (sticky). */
  push(bytes: Uint8Array): boolean {
    if (this.#failed) return false;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (this.#need === 0) {
        if (b <= 0x7f) continue;
        if (b >= 0xc2 && b <= 0xdf) this.#start(1, 0x80, 0xbf);
        else if (b === 0xe0) this.#start(2, 0xa0, 0xbf);
        else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) this.#start(2, 0x80, 0xbf);
        else if (b === 0xed) this.#start(2, 0x80, 0x9f);
        else if (b === 0xf0) this.#start(3, 0x90, 0xbf);
        else if (b >= 0xf1 && b <= 0xf3) this.#start(3, 0x80, 0xbf);
        else if (b === 0xf4) this.#start(3, 0x80, 0x8f);
        else return this.#fail();
      } else {
        if (b < this.#lower || b > this.#upper) return this.#fail();
        this.#lower = 0x80;
        this.#upper = 0xbf;
        this.#need--;
      }
    }
    return true;
  }

  /** True when everything fed so far is valid and ends on a code point boundary. */
  get complete(): boolean {
    return !this.#failed && this.#need === 0;
  }

  get failed(): boolean {
    return this.#failed;
  }

  reset(): void {
    this.#need = 0;
    this.#lower = 0x80;
    this.#upper = 0xbf;
    this.#failed = false;
  }

  #start(need: number, lower: number, upper: number): void {
    this.#need = need;
    this.#lower = lower;
    this.#upper = upper;
  }

  #fail(): false {
    this.#failed = true;
    return false;
  }
}

/** Whole-input check: valid and complete. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const v = new Utf8Validator();
  return v.push(bytes) && v.complete;
}
