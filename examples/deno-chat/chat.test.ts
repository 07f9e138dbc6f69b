// The Deno chat example: the page and 404 over plain HTTP on the WebSocket's port, the room's
// rules with Deno's built-in WebSocket as the browser, and shutting down.
import { createChatServer, type ChatServer } from './chat.ts';

const HOST = '127.0.0.1';

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function within<T>(promise: Promise<T>, ms = 10_000, what = 'operation'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)),
    ),
  ]);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A chat member through Deno's built-in WebSocket: its messages (parsed) and its close. */
function member(host: string, name: string) {
  const ws = new WebSocket(`ws://${host}/ws?name=${encodeURIComponent(name)}`);
  const messages: Array<Record<string, unknown>> = [];
  ws.onmessage = (event) => messages.push(JSON.parse(event.data));
  const closed = new Promise<{ code: number; reason: string }>(
    (resolve) => (ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })),
  );
  return { ws, messages, closed };
}

async function start(): Promise<{ chat: ChatServer; host: string }> {
  const chat = await createChatServer();
  const { port } = chat.listen(0, HOST);
  return { chat, host: `${HOST}:${port}` };
}

Deno.test('deno-chat: the page at / and 404 elsewhere, on the WebSocket port', async () => {
  const { chat, host } = await start();
  try {
    const page = await fetch(`http://${host}/`);
    check(page.status === 200, `status ${page.status}`);
    check(page.headers.get('content-type')?.startsWith('text/html'), 'html');
    check((await page.text()).includes('<title>@ws chat</title>'), 'the page');
    const missing = await fetch(`http://${host}/nope`);
    check(missing.status === 404, `404, got ${missing.status}`);
    await missing.body?.cancel();
    // A plain GET to /ws is not an upgrade: the codec answers 426.
    const plain = await fetch(`http://${host}/ws`);
    check(plain.status === 426, `426, got ${plain.status}`);
    await plain.body?.cancel();
  } finally {
    await chat.close();
  }
});

Deno.test('deno-chat: two members talk; a taken name gets 4009; shutdown closes with 1001', async () => {
  const { chat, host } = await start();
  try {
    const alice = member(host, 'alice');
    await until(() => alice.messages.length >= 1, 'alice welcome');
    check(
      alice.messages[0]!.type === 'welcome' && alice.messages[0]!.name === 'alice',
      JSON.stringify(alice.messages[0]),
    );
    const bob = member(host, 'bob');
    await until(
      () => bob.messages.length >= 1 && alice.messages.some((m) => m.type === 'join' && m.name === 'bob'),
      'bob joins',
    );
    check(JSON.stringify(bob.messages[0]!.people) === '["alice","bob"]', JSON.stringify(bob.messages[0]));
    bob.ws.send(JSON.stringify({ type: 'say', text: 'hi alice' }));
    await until(
      () => alice.messages.some((m) => m.type === 'message' && m.from === 'bob' && m.text === 'hi alice'),
      'message',
    );

    const impostor = member(host, 'alice');
    const taken = await within(impostor.closed);
    check(taken.code === 4009 && taken.reason === 'name taken', JSON.stringify(taken));

    await within(chat.close(), 15_000, 'chat.close');
    const [a, b] = await within(Promise.all([alice.closed, bob.closed]));
    check(a.code === 1001 && b.code === 1001, `${a.code} ${b.code}`);
    check(chat.room.size === 0, 'room empty');
  } finally {
    await chat.close();
  }
});

Deno.test('deno-chat: main.ts prints its URL and exits on SIGTERM', async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ['run', '--allow-net', '--allow-read=../node-chat', 'main.ts', '--port', '0'],
    cwd: new URL('.', import.meta.url),
    stdout: 'piped',
    stderr: 'inherit',
    env: { NO_COLOR: '1' },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let out = '';
    const port = await within(
      (async () => {
        for (;;) {
          const match = /chat on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
          if (match) return Number(match[1]);
          const { value, done } = await reader.read();
          if (done) throw new Error(`main.ts ended: ${out}`);
          out += value;
        }
      })(),
      30_000,
      'main.ts start',
    );
    const page = await fetch(`http://${HOST}:${port}/`);
    check(page.status === 200, 'page from main.ts');
    await page.body?.cancel();
    child.kill('SIGTERM');
    const status = await within(child.status, 10_000, 'main.ts exit');
    check(status.code === 0, `exit code ${status.code}`);
  } finally {
    await reader.cancel().catch(() => {});
    try {
      child.kill('SIGKILL');
    } catch {
      // already exited
    }
    await child.status;
  }
});
