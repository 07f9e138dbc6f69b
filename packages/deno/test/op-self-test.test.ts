// What the read and write ops' self-tests share (op-self-test.ts): without net permission for
// all of 127.0.0.1 both fail, without a prompt (a subprocess per set of permissions), and with it
// both pass; both run at once (the write op's when asked for), alongside the first listen, and nothing they opened is left.
import { assertEquals } from '../../../test/shared/assert.ts';

Deno.test('without net permission for all of 127.0.0.1 the self-tests fail, and do not prompt', async () => {
  const script = new URL('./fixtures/op-verdicts.ts', import.meta.url).pathname;
  const run = async (...flags: string[]): Promise<string> => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ['run', '--no-prompt', ...flags, script],
      stdin: 'null',
      stdout: 'piped',
      stderr: 'piped',
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    return new TextDecoder().decode(stdout).trim();
  };
  assertEquals(await run(), 'false false', 'no net permission');
  assertEquals(await run('--allow-net=127.0.0.1:1'), 'false false', 'one port of 127.0.0.1 only');
  assertEquals(await run('--allow-net=127.0.0.1'), 'true true', 'all of 127.0.0.1 (the control)');
});

Deno.test('the first listen waits for both self-tests; once it has resolved, none of their sockets is open', async () => {
  // In a fresh process, so that this listen is the first (the self-tests run once per process).
  const code = `
    import { createServer } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
    import { openSockets } from ${JSON.stringify(new URL('./helpers.ts', import.meta.url).href)};
    const before = openSockets();
    const server = createServer({ rawWrites: true }, () => {});
    await server.listen(0, '127.0.0.1');
    const after = openSockets();
    await server.close();
    console.log(JSON.stringify({ before, after, closed: openSockets() }));
  `;
  const {
    code: exit,
    stdout,
    stderr,
  } = await new Deno.Command(Deno.execPath(), {
    args: ['eval', '--config', new URL('../deno.json', import.meta.url).pathname, code],
    stdin: 'null',
    stdout: 'piped',
    stderr: 'piped',
  }).output();
  assertEquals(exit, 0, new TextDecoder().decode(stderr));
  const { before, after, closed } = JSON.parse(new TextDecoder().decode(stdout)) as Record<string, number | null>;
  if (before === null) throw new Error('this test counts sockets in /proc/self/fd (Linux)');
  assertEquals([after, closed], [(before ?? 0) + 1, before], 'the listener only, then nothing');
});
