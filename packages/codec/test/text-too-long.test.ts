// A valid text message that the host cannot make into one string (V8 stops at 2^29 − 24
// characters; only a raised maxMessageSize lets one in) must fail the connection with 1009, not
// throw out of the codec. The host's limit is simulated: a TextDecoder that refuses more than
// LIMIT bytes with the RangeError V8 throws, and otherwise decodes as the real one does.
import { afterEach, describe, expect, it, vi } from 'vitest';

const LIMIT = 100;
type Decoder = { decode(b: Uint8Array): string };
type DecoderClass = new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) => Decoder;
const Real = (globalThis as unknown as { TextDecoder: DecoderClass }).TextDecoder;

class ShortStrings {
  readonly #real: Decoder;
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) {
    this.#real = new Real(label, options);
  }
  decode(bytes: Uint8Array): string {
    const text = this.#real.decode(bytes); // a strict one throws its TypeError for bad bytes first
    if (bytes.length > LIMIT) throw new RangeError('Invalid string length');
    return text;
  }
}

async function load() {
  vi.stubGlobal('TextDecoder', ShortStrings);
  vi.resetModules();
  const utf8 = await import('../src/utf8.ts');
  const frames = await import('./helpers/frames.ts');
  return { utf8, frames };
}

describe('text too long for a string on this host', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  for (const strict of [true, false]) {
    it(`a whole one-frame message fails with 1009 (${strict ? 'strict decoder' : 'validator, then decode'})`, async () => {
      const { frames } = await load();
      const server = frames.openServer({ engine: { strictDecoder: strict } });
      server.receiveData(frames.clientFrame(0x81, 'ok'));
      server.receiveData(frames.clientFrame(0x81, 'x'.repeat(LIMIT + 1)));
      const events = server.takeEvents();
      expect(events[0]).toEqual({ type: 'text', data: 'ok' });
      expect(events.find((e) => e.type === 'protocol-error')).toMatchObject({
        code: 'MESSAGE_TOO_LARGE',
        closeCode: 1009,
      });
    });
  }

  it('an assembled (fragmented) message fails with 1009 too', async () => {
    const { frames } = await load();
    const server = frames.openServer();
    server.receiveData(frames.clientFrame(0x01, 'y'.repeat(60)));
    server.receiveData(frames.clientFrame(0x80, 'y'.repeat(60)));
    expect(server.takeEvents().find((e) => e.type === 'protocol-error')).toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
      closeCode: 1009,
    });
  });

  it('invalid bytes are still reported as 1007, whatever their length', async () => {
    const { frames } = await load();
    const server = frames.openServer();
    const bad = new Uint8Array(LIMIT + 10).fill(0x61);
    bad[5] = 0xff;
    server.receiveData(frames.clientFrame(0x81, bad));
    expect(server.takeEvents().find((e) => e.type === 'protocol-error')).toMatchObject({
      code: 'INVALID_UTF8',
      closeCode: 1007,
    });
  });
});
