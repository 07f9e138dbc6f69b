// Our server against Deno's built-in WebSocket client (and raw sockets where a client cannot
// misbehave on purpose): echo of every size class, fragmentation, ping/pong, close both ways,
// subprotocols, refused handshakes, a malformed frame, and shutting the server down.
import { assert, assertEquals, assertMatch, assertRejects } from '../../../test/shared/assert.ts';
import type { CloseInfo, WebSocketConnection } from '../src/index.ts';
import {
  HOST,
  UPGRADE_REQUEST,
  bytes,
  clientFrame,
  denoClient,
  denoClose,
  denoClosed,
  denoMessages,
  equalBytes,
  ourServer,
  readAll,
  readHead,
  within,
  writeAll,
} from './helpers.ts';

const echo = (ws: WebSocketConnection): void => {
  ws.on('message', (data) => ws.send(data));
  ws.on('error', () => {});
};

Deno.test('echoes text and binary of every length class unchanged, with their types', async () => {
  const { server, url } = await ourServer({}, echo);
  try {
    const client = await denoClient(url);
    const sizes = [0, 1, 125, 126, 127, 65535, 65536, 100_000];
    const sent: Array<string | Uint8Array> = [];
    for (const size of sizes) {
      sent.push(bytes(size, size + 1));
      sent.push('é'.repeat(Math.floor(size / 2)) + (size % 2 === 1 ? 'a' : ''));
    }
    for (const message of sent) client.send(message);
    const received = await denoMessages(client, sent.length);
    for (let i = 0; i < sent.length; i++) {
      const expected = sent[i]!;
      const actual = received[i]!;
      if (typeof expected === 'string') assertEquals(actual, expected);
      else
        assert(
          actual instanceof Uint8Array && equalBytes(actual, expected),
          `binary message ${i} (${expected.length} B)`,
        );
    }
    await denoClose(client);
  } finally {
    await server.close();
  }
});

Deno.test('echoes a 16 MiB binary message', async () => {
  const { server, url } = await ourServer({}, echo);
  try {
    const client = await denoClient(url);
    const big = bytes(16 * 1024 * 1024, 7);
    client.send(big);
    const [back] = await denoMessages(client, 1, 30_000);
    assert(back instanceof Uint8Array && equalBytes(back, big));
    await denoClose(client);
  } finally {
    await server.close();
  }
});

Deno.test('sends fragmented messages that the client reassembles; reassembles a fragmented one', async () => {
  const received: Array<string | Uint8Array> = [];
  const { server, url, port } = await ourServer({}, (ws) => {
    ws.on('message', (data) => received.push(data));
    ws.sendFragment('frag', false);
    ws.sendFragment('men', false);
    ws.sendFragment('ted', true);
    ws.sendFragment(Uint8Array.of(1, 2), false);
    ws.sendFragment(Uint8Array.of(3), true);
  });
  try {
    const client = await denoClient(url);
    const [text, binary] = await denoMessages(client, 2);
    assertEquals(text, 'fragmented');
    assertEquals(binary, Uint8Array.of(1, 2, 3));
    await denoClose(client);

    // A client's fragments (with a ping between them), from a raw socket.
    const conn = await Deno.connect({ hostname: HOST, port });
    try {
      await writeAll(conn, new TextEncoder().encode(UPGRADE_REQUEST));
      const { head } = await readHead(conn);
      assertMatch(head, /^HTTP\/1\.1 101 /);
      const enc = new TextEncoder();
      await writeAll(conn, clientFrame(0x1, enc.encode('he'), false));
      await writeAll(conn, clientFrame(0x9, enc.encode('p')));
      await writeAll(conn, clientFrame(0x0, enc.encode('llo'), true));
      await writeAll(conn, clientFrame(0x8, Uint8Array.of(0x03, 0xe8)));
      const rest = await readAll(conn);
      // The pong for our ping, then the echoed close (1000).
      assertEquals([...rest.subarray(0, 3)], [0x8a, 0x01, 0x70]);
      assertEquals([...rest.subarray(3, 7)], [0x88, 0x02, 0x03, 0xe8]);
    } finally {
      conn.close();
    }
    assertEquals(received, ['hello']);
  } finally {
    await server.close();
  }
});

Deno.test('ping gets the pong with the same payload', async () => {
  let pong!: Promise<Uint8Array>;
  const { server, url } = await ourServer({}, (ws) => {
    pong = new Promise((resolve) => ws.once('pong', resolve));
    ws.ping('are you there');
  });
  try {
    const client = await denoClient(url);
    assertEquals(new TextDecoder().decode(await within(pong, 10_000, 'pong')), 'are you there');
    await denoClose(client);
  } finally {
    await server.close();
  }
});

Deno.test('close codes and reasons travel both ways', async () => {
  const infos: Promise<CloseInfo>[] = [];
  const { server, url } = await ourServer({}, (ws) => {
    infos.push(ws.closed);
    if (ws.request!.path === '/server-closes') ws.close(4001, 'server bye');
  });
  try {
    // The client closes.
    const a = await denoClient(url);
    await denoClose(a, 4000, 'client bye');
    const first = await within(infos[0]!);
    assertEquals(first.code, 4000);
    assertEquals(first.reason, 'client bye');
    assertEquals(first.wasClean, true);
    assertEquals(first.error, null);

    // The server closes.
    const b = new WebSocket(`${url}/server-closes`);
    const event = await within(denoClosed(b));
    assertEquals(event.code, 4001);
    assertEquals(event.reason, 'server bye');
    assertEquals(event.wasClean, true);
    const second = await within(infos[1]!);
    assertEquals(second.code, 4001);
    assertEquals(second.wasClean, true);
  } finally {
    await server.close();
  }
});

Deno.test('subprotocols: the server picks its most preferred one the client offered', async () => {
  const { server, url } = await ourServer({ protocols: ['v2.chat', 'v1.chat'] }, echo);
  try {
    const client = await denoClient(url, ['v1.chat', 'v2.chat']);
    assertEquals(client.protocol, 'v2.chat');
    await denoClose(client);
    const none = await denoClient(url);
    assertEquals(none.protocol, '');
    await denoClose(none);
  } finally {
    await server.close();
  }
});

Deno.test('refused handshakes answer with their HTTP status', async () => {
  const { server, url, port } = await ourServer(
    {
      origins: ['https://good.example'],
      verifyClient: (request) => (request.path === '/secret' ? { status: 403, body: 'no' } : true),
    },
    echo,
  );
  try {
    // verifyClient refuses: the built-in client fails with error + close 1006.
    // The built-in client (it sends no Origin) is refused: error, then close, not clean.
    const refused = new WebSocket(`${url}/secret`);
    let sawError = false;
    refused.onerror = () => (sawError = true);
    const event = await within(denoClosed(refused));
    assertEquals(sawError, true);
    assertEquals(event.wasClean, false);

    const status = async (request: string): Promise<string> => {
      const conn = await Deno.connect({ hostname: HOST, port });
      try {
        await writeAll(conn, new TextEncoder().encode(request));
        const { head } = await readHead(conn);
        return head.split('\r\n')[0]!;
      } finally {
        conn.close();
      }
    };
    const withOrigin = (origin: string, path = '/'): string =>
      UPGRADE_REQUEST.replace('GET / ', `GET ${path} `).replace('\r\n\r\n', `\r\nOrigin: ${origin}\r\n\r\n`);
    assertEquals(await status(withOrigin('https://good.example', '/secret')), 'HTTP/1.1 403 Forbidden');
    assertEquals(await status(withOrigin('https://evil.example')), 'HTTP/1.1 403 Forbidden');
    assertEquals(await status(withOrigin('https://good.example')), 'HTTP/1.1 101 Switching Protocols');
    assertEquals(
      await status(UPGRADE_REQUEST.replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8')),
      'HTTP/1.1 426 Upgrade Required',
    );
    // A plain HTTP request.
    const response = await fetch(`http://${HOST}:${port}/`);
    assertEquals(response.status, 426);
    await response.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test('a malformed frame (unmasked from a client) is answered with 1002, then TCP closes', async () => {
  let info!: Promise<CloseInfo>;
  const { server, port } = await ourServer({}, (ws) => {
    ws.on('error', () => {});
    info = ws.closed;
  });
  const conn = await Deno.connect({ hostname: HOST, port });
  try {
    await writeAll(conn, new TextEncoder().encode(UPGRADE_REQUEST));
    const { head, rest } = await readHead(conn);
    assertMatch(head, /^HTTP\/1\.1 101 /);
    assertEquals(rest.length, 0);
    await writeAll(conn, clientFrame(0x1, new TextEncoder().encode('unmasked'), true, false));
    const after = await readAll(conn); // ends at the server's FIN
    assertEquals(after[0], 0x88);
    assertEquals((after[2]! << 8) | after[3]!, 1002);
    conn.close(); // our side of TCP: the server's socket is then gone
    const closed = await within(info);
    assertEquals(closed.sentCode, 1002);
    assertEquals(closed.code, 1006); // no Close came back
    assertEquals(closed.error, 'UNMASKED_FRAME_FROM_CLIENT');
  } finally {
    try {
      conn.close();
    } catch {
      // closed above
    }
    await server.close();
  }
});

Deno.test('for await iterates messages; the request carries the peer address', async () => {
  const seen: string[] = [];
  let done!: Promise<void>;
  let remote: string | null = null;
  const { server, url } = await ourServer({}, (ws, request) => {
    remote = request.remoteAddress;
    done = (async () => {
      for await (const message of ws) {
        seen.push(String(message));
        if (seen.length === 3) ws.close(1000, 'enough');
      }
    })();
  });
  try {
    const client = await denoClient(url);
    const closed = denoClosed(client);
    for (const m of ['a', 'b', 'c']) client.send(m);
    assertEquals((await within(closed)).code, 1000);
    await within(done);
    assertEquals(seen, ['a', 'b', 'c']);
    assertEquals(remote, HOST);
  } finally {
    await server.close();
  }
});

Deno.test('server.close() closes open connections with 1001 and stops listening', async () => {
  const { server, url, port } = await ourServer({}, echo);
  const a = await denoClient(url);
  const b = await denoClient(url);
  await within(
    (async () => {
      while (server.connections.size < 2) await new Promise((r) => setTimeout(r, 5));
    })(),
  );
  const closedA = denoClosed(a);
  const closedB = denoClosed(b);
  await within(server.close(), 15_000, 'server.close');
  assertEquals((await within(closedA)).code, 1001);
  assertEquals((await within(closedB)).code, 1001);
  assertEquals(server.connections.size, 0);
  await assertRejects(Deno.connect({ hostname: HOST, port }), (e) => e instanceof Deno.errors.ConnectionRefused);
});
