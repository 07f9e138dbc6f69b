// examples/bun-chat: the page and the WebSocket on one Bun.listen port (handleSocket).
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { createChatServer, type ChatServer } from '../../../examples/bun-chat/chat.ts';
import { HOST, bunClosed, within } from './helpers.ts';

describe('examples/bun-chat', () => {
  let chat: ChatServer;
  let base: string;
  const lines: string[] = [];

  beforeAll(async () => {
    chat = await createChatServer({ log: (line) => lines.push(line) });
    base = `${HOST}:${chat.listen(0, HOST).port}`;
  });
  afterAll(() => within(chat.close(), 15_000, 'chat.close'));

  /** A Bun WebSocket client and every JSON message it receives. */
  async function join(name: string): Promise<{ ws: WebSocket; got: Array<Record<string, unknown>> }> {
    const ws = new WebSocket(`ws://${base}/ws?name=${name}`);
    const got: Array<Record<string, unknown>> = [];
    ws.onmessage = (event) => got.push(JSON.parse(event.data as string));
    await within(new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject))));
    return { ws, got };
  }

  const until = async (condition: () => boolean): Promise<void> => {
    for (let i = 0; i < 400 && !condition(); i++) await Bun.sleep(5);
    expect(condition()).toBe(true);
  };

  it('serves the page at / and 404 elsewhere on the same port', async () => {
    const page = await within(fetch(`http://${base}/`));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<title>@ws chat</title>');
    const missing = await within(fetch(`http://${base}/nope`));
    expect(missing.status).toBe(404);
    await missing.text();
  });

  it('broadcasts messages, announces joins and leaves, refuses a taken name with 4009', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    await until(() => alice.got.some((m) => m.type === 'join' && m.name === 'bob') && bob.got.length > 0);
    expect(bob.got[0]).toMatchObject({ type: 'welcome', name: 'bob', people: ['alice', 'bob'] });
    alice.ws.send(JSON.stringify({ type: 'say', text: 'hello bob' }));
    await until(() => bob.got.some((m) => m.type === 'message' && m.from === 'alice' && m.text === 'hello bob'));
    const again = new WebSocket(`ws://${base}/ws?name=alice`);
    expect(await within(bunClosed(again))).toMatchObject({ code: 4009, reason: 'name taken' });
    bob.ws.close(1000);
    await until(() => alice.got.some((m) => m.type === 'leave' && m.name === 'bob'));
    alice.ws.close(1000);
    await within(bunClosed(alice.ws));
    expect(lines.some((l) => l.startsWith('alice joined'))).toBe(true);
  });

  it("refuses a cross-site page's Origin with 403", async () => {
    let answer = '';
    const socket = await Bun.connect({
      hostname: HOST,
      port: Number(base.split(':')[1]),
      socket: { data: (_s, d) => void (answer += d.toString()) },
    });
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${base}\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await until(() => answer.includes('\r\n\r\n'));
    expect(answer.startsWith('HTTP/1.1 403')).toBe(true);
    socket.terminate();
  });
});
