// Engine tuning (`engine` option, engine-tuning.ts) is per connection: two connections in one
// process, tuned differently and fed in turn, each keep their own choice, and neither changes
// what the peer sees or what the application gets.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Connection, computeAcceptKey, type Event, type Output, type ServerConnectionOptions } from '../src/index.ts';
import { serverConnection } from '../src/server.ts';
import { ascii, clientFrame, openServer, REQUEST } from './helpers/frames.ts';

const payload = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 13 + 5) & 0xff);

/** The array owns its memory: not a view of a larger buffer (a fed chunk or a shared slab). */
const ownsMemory = (bytes: Uint8Array): boolean => bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length;

function writes(outputs: Output[]): Uint8Array[] {
  return outputs.flatMap((o) => (o.type === 'write' ? [o.data] : []));
}

describe('engine.freshArrays, per connection', () => {
  it('a tuned and an untuned server, fed in turn: only the tuned one copies payloads out and writes frames of their own', () => {
    const fresh = openServer({ engine: { freshArrays: true } });
    const views = openServer();
    for (const n of [0, 1, 5, 33, 64, 65, 125, 126, 500, 1000]) {
      const data = payload(n);
      for (const [server, tuned] of [
        [fresh, true],
        [views, false],
        [fresh, true],
      ] as const) {
        const chunk = clientFrame(0x82, data);
        server.receiveData(chunk);
        const [event] = server.takeEvents() as Array<Extract<Event, { type: 'binary' }>>;
        expect(event?.data).toEqual(data);
        if (n > 0) {
          // Fresh: an array of its own. Default (V8): a view of the chunk it came in.
          if (tuned) expect(ownsMemory(event!.data)).toBe(true);
          else expect(event!.data.buffer).toBe(chunk.buffer);
        }
        server.send({ type: 'binary', data });
        const [frame] = writes(server.takeOutput());
        expect(frame!.subarray(frame!.length - n)).toEqual(data);
        // Fresh: a frame of its own; default: a view of the shared 64 KiB slab.
        expect(ownsMemory(frame!)).toBe(tuned);
      }
    }
  });

  it('the 101 response too, and a ping is answered the same way by both', () => {
    const heads = [{ engine: { freshArrays: true } }, {}].map((options: ServerConnectionOptions) => {
      const server = requested(options);
      server.send({ type: 'accept' });
      return writes(server.takeOutput())[0]!;
    });
    expect(heads[0]).toEqual(heads[1]);
    expect(heads.map(ownsMemory)).toEqual([true, false]);

    const pongs = [openServer({ engine: { freshArrays: true } }), openServer()].map((server) => {
      server.receiveData(clientFrame(0x89, 'are you there'));
      expect(server.takeEvents()).toEqual([{ type: 'ping', data: ascii('are you there') }]);
      return writes(server.takeOutput())[0]!;
    });
    expect(pongs[0]).toEqual(pongs[1]);
    expect(pongs.map(ownsMemory)).toEqual([true, false]);
  });

  it('an engine option that is not an object is refused', () => {
    expect(() => openServer({ engine: 1 as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

/** A server that has received REQUEST, its `request` event taken, not answered yet. */
function requested(options: ServerConnectionOptions): Connection {
  const server = serverConnection(options);
  server.receiveData(ascii(REQUEST));
  expect(server.takeEvents().map((e) => e.type)).toEqual(['request']);
  return server;
}

describe('engine.sha1Base64, per connection', () => {
  const nodeSha1 = (text: string): string => createHash('sha1').update(text, 'latin1').digest('base64');

  it("a server with the host's SHA-1 answers with the same bytes as one with the codec's own; it hashes key + GUID", () => {
    const texts: string[] = [];
    const hash = (text: string): string => {
      texts.push(text);
      return nodeSha1(text);
    };
    const heads = [{ engine: { sha1Base64: hash } }, {}].map((options: ServerConnectionOptions) => {
      const server = requested(options);
      server.send({ type: 'accept' });
      return new TextDecoder().decode(writes(server.takeOutput())[0]);
    });
    expect(heads[0]).toBe(heads[1]);
    // RFC 6455 §1.3's example key and answer.
    expect(heads[0]).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
    expect(texts).toEqual(['dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11']);
  });

  it('what the hook answers is what goes out (it is not checked against the codec: it must be right)', () => {
    const server = requested({ engine: { sha1Base64: () => 'from-the-host' } });
    server.send({ type: 'accept' });
    expect(new TextDecoder().decode(writes(server.takeOutput())[0])).toContain(
      'Sec-WebSocket-Accept: from-the-host\r\n',
    );
  });

  it('computeAcceptKey uses a hook for an ASCII key only; other text goes through its own SHA-1 (and its Latin-1 check)', () => {
    const hook = vi.fn(nodeSha1);
    expect(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ==', hook)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(hook).toHaveBeenCalledTimes(1);
    expect(computeAcceptKey('clé', hook)).toBe(computeAcceptKey('clé'));
    expect(hook).toHaveBeenCalledTimes(1);
    expect(() => computeAcceptKey('κλειδί', hook)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('a sha1Base64 that is not a function is refused', () => {
    expect(() => openServer({ engine: { sha1Base64: 'sha1' as never } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('engine.sha1Base64') }),
    );
  });
});

describe('engine.strictDecoder, per connection', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  /** The codec loaded with a TextDecoder that counts the calls of its strict (fatal) instances. */
  async function withCountingDecoder() {
    type Decoder = { decode(b: Uint8Array): string };
    type DecoderClass = new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) => Decoder;
    const Real = (globalThis as unknown as { TextDecoder: DecoderClass }).TextDecoder;
    const counts = { strict: 0 };
    class Counting {
      readonly #real: Decoder;
      readonly #fatal: boolean;
      constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) {
        this.#real = new Real(label, options);
        this.#fatal = options?.fatal === true;
      }
      decode(bytes: Uint8Array): string {
        if (this.#fatal) counts.strict++;
        return this.#real.decode(bytes);
      }
    }
    vi.stubGlobal('TextDecoder', Counting);
    vi.resetModules();
    const frames = await import('./helpers/frames.ts');
    return { frames, counts };
  }

  it("a strict and a non-strict server, fed in turn: only the strict one calls the host's strict decoder, and both decode alike", async () => {
    const { frames, counts } = await withCountingDecoder();
    const strict = frames.openServer(); // the default where the host has a strict TextDecoder
    const plain = frames.openServer({ engine: { strictDecoder: false } });
    const text = 'héllo wörld, long enough for the host decoder';
    let expected = 0;
    for (const [server, isStrict] of [
      [strict, true],
      [plain, false],
      [strict, true],
      [plain, false],
    ] as const) {
      server.receiveData(frames.clientFrame(0x81, text));
      expect(server.takeEvents()).toEqual([{ type: 'text', data: text }]);
      if (isStrict) expected++;
      expect(counts.strict).toBe(expected);
    }
    // Invalid text: the same verdict (1007) either way.
    for (const server of [strict, plain]) {
      const bad = new Uint8Array(20).fill(0x61);
      bad[10] = 0xc0;
      server.receiveData(frames.clientFrame(0x81, bad));
      expect(server.takeEvents().find((e) => e.type === 'protocol-error')).toMatchObject({
        code: 'INVALID_UTF8',
        closeCode: 1007,
      });
    }
  });
});
