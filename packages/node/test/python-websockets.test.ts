// python websockets (Debian's python3-websockets 10.4) as client of our server and server for
// our client. Skipped when no python3 with `websockets` is installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type CloseInfo, type WebSocketServer } from '../src/index.ts';
import { HOST, bytes, ourServer, within } from './helpers.ts';

const PEER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'python_peer.py');
// Debian's python first: a pyenv/venv python3 on PATH usually lacks the Debian package.
const PYTHON = ['/usr/bin/python3', 'python3'].find(
  (python) => spawnSync(python, ['-c', 'import websockets'], { stdio: 'ignore', timeout: 10_000 }).status === 0,
);

describe.skipIf(PYTHON === undefined)('python websockets', () => {
  let server: WebSocketServer;
  let url: string;
  const closed: Promise<CloseInfo>[] = [];
  let pyServer: ChildProcess;
  let pyPort: number;

  beforeAll(async () => {
    ({ server, url } = await ourServer({ protocols: ['chat'] }, (ws) => {
      closed.push(ws.closed);
      ws.on('message', (data) => ws.send(data));
    }));
    pyServer = spawn(PYTHON!, [PEER, 'server'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await within(once(pyServer.stdout!, 'data'), 15_000, 'python server start')) as [Buffer];
    pyPort = Number(line.toString().trim());
  });
  afterAll(async () => {
    if (pyServer.exitCode === null) {
      pyServer.kill('SIGTERM');
      await once(pyServer, 'exit');
    }
    await within(server.close(), 15_000);
  });

  it('its client talks to our server', async () => {
    const child = spawn(PYTHON!, [PEER, 'client', `${url}/py`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (err += c));
    try {
      const [code] = await within(once(child, 'exit'), 20_000, 'python client');
      expect(code, err).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(JSON.parse(out)).toEqual({
      protocol: 'chat',
      text: 'hello from python',
      binary_ok: true,
      fragmented: 'fragmented',
      pong: true,
      close_code: 4000,
    });
    expect(await within(closed.at(-1)!)).toMatchObject({
      code: 4000,
      reason: 'py-bye',
      wasClean: true,
      initiator: 'remote',
    });
  });

  it('its server talks to our client', async () => {
    const client = await within(connect(`ws://${HOST}:${pyPort}/echo`, { protocols: ['chat'] }));
    expect(client.protocol).toBe('chat');
    const next = (): Promise<string | Uint8Array> => new Promise((resolve) => client.once('message', resolve));
    let reply = next();
    client.send('hi python');
    expect(await within(reply)).toBe('hi python');
    reply = next();
    client.send(bytes(100_000));
    expect(Buffer.compare(Buffer.from((await within(reply)) as Uint8Array), Buffer.from(bytes(100_000)))).toBe(0);
    reply = next();
    client.sendFragment('par', false);
    client.sendFragment('ts', true);
    expect(await within(reply)).toBe('parts');
    const pong = new Promise<Uint8Array>((resolve) => client.once('pong', resolve));
    client.ping('ping?');
    expect(Buffer.from(await within(pong)).toString()).toBe('ping?');
    client.close(4001, 'node-bye');
    expect(await within(client.closed)).toMatchObject({ code: 4001, wasClean: true, initiator: 'local', error: null });

    const closing = await within(connect(`ws://${HOST}:${pyPort}/close`));
    expect(await within(closing.closed)).toMatchObject({
      code: 4002,
      reason: 'py-close',
      wasClean: true,
      initiator: 'remote',
    });
  });
});
