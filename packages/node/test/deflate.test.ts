// permessage-deflate (RFC 7692) end to end: our server with ws's client (which offers it by
// default) and our client with ws's server, plus a per-message opt-out.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket as WsClient } from 'ws';
import { permessageDeflate } from '@ws/codec/pako';
import { connect } from '../src/index.ts';
import { closeWsServer, ourServer, within, wsMessages, wsServer } from './helpers.ts';

const TEXT = 'compress me please, '.repeat(5000); // 100 kB, very compressible

describe('permessage-deflate', () => {
  it('our server negotiates it with ws and echoes compressed messages', async () => {
    let wire = 0;
    const { server, url } = await ourServer({ extensions: [permessageDeflate()] }, (ws) => {
      ws.on('message', (data) => ws.send(data));
    });
    server.server.on('connection', (socket) => socket.on('data', (c: Buffer) => (wire += c.length)));
    try {
      const client = new WsClient(url, { perMessageDeflate: true });
      await within(once(client, 'open'));
      expect(client.extensions).toMatch(/^permessage-deflate/);
      const got = wsMessages(client, 2);
      client.send(TEXT);
      client.send(Buffer.from(TEXT), { binary: true, compress: false });
      const [[a], [b]] = (await within(got)) as [[Buffer, boolean], [Buffer, boolean]];
      expect(a.toString()).toBe(TEXT);
      expect(b.toString()).toBe(TEXT);
      expect(wire).toBeLessThan(TEXT.length + 10_000); // the first one went compressed
      client.close();
      await once(client, 'close');
    } finally {
      await within(server.close(), 15_000);
    }
  });

  it('our client negotiates it with ws and can opt out per message', async () => {
    const { server, url } = await wsServer({ perMessageDeflate: { threshold: 0 } });
    server.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    try {
      const client = await within(connect(url, { extensions: [permessageDeflate()] }));
      expect(client.extensions).toMatch(/^permessage-deflate/);
      const replies: unknown[] = [];
      client.on('message', (d) => replies.push(d));
      client.send(TEXT);
      client.send(new TextEncoder().encode(TEXT), { compress: false });
      while (replies.length < 2) await new Promise((r) => setTimeout(r, 5));
      expect(replies[0]).toBe(TEXT);
      expect(new TextDecoder().decode(replies[1] as Uint8Array)).toBe(TEXT);
      client.close(1000);
      expect(await within(client.closed)).toMatchObject({ wasClean: true });
    } finally {
      await closeWsServer(server);
    }
  });
});
