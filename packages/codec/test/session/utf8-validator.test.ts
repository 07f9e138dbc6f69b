// The session passes a host's UTF-8 validator (e.g. Node's buffer.isUtf8) through to the codec,
// on both roles: whole one-frame text messages go through it, and its verdict decides (§8.1).
import { describe, expect, it } from 'vitest';
import { pair, settle } from './memory-transport.ts';

describe('session: utf8Validator', () => {
  it('a server asks the host validator, and a "no" fails the connection with 1007', async () => {
    const seen: string[] = [];
    const validator = (bytes: Uint8Array): boolean => {
      seen.push(new TextDecoder().decode(bytes));
      return !seen.at(-1)!.includes('reject');
    };
    const p = pair({ utf8Validator: validator });
    const client = await p.client.opened;
    const server = await p.server;
    const got: unknown[] = [];
    server.on('message', (data) => got.push(data));
    server.on('error', () => {});
    client.on('error', () => {});
    client.send('fine');
    await settle();
    expect(got).toEqual(['fine']);
    client.send('please reject me');
    expect(await client.closed).toMatchObject({ code: 1007 });
    expect(seen).toEqual(['fine', 'please reject me']);
    expect(got).toEqual(['fine']);
  });

  it('a client asks it too', async () => {
    let calls = 0;
    const p = pair({}, { utf8Validator: () => (calls++, true) });
    const client = await p.client.opened;
    const server = await p.server;
    const got: unknown[] = [];
    client.on('message', (data) => got.push(data));
    server.send('héllo');
    await settle();
    expect(got).toEqual(['héllo']);
    expect(calls).toBe(1);
  });
});
