// Node's own WebSocket client (undici, behind --experimental-websocket on Node 20) against our
// server, in a child process.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloseInfo, SessionRequest, WebSocketServer } from '../src/index.ts';
import { ourServer, within } from './helpers.ts';

const CLIENT = `
const ws = new WebSocket(process.env.WS_URL, ['chat', 'superchat']);
ws.binaryType = 'arraybuffer';
const got = [];
ws.onopen = () => {
  ws.send('hello from undici');
  ws.send(new Uint8Array([1, 2, 3, 250]));
  ws.send('x'.repeat(70000));
};
ws.onmessage = (e) => {
  got.push(typeof e.data === 'string' ? (e.data.length > 100 ? 'len:' + e.data.length : e.data) : Array.from(new Uint8Array(e.data)));
  if (got.length === 3) ws.close(4000, 'undici-bye');
};
ws.onerror = (e) => console.log(JSON.stringify({ error: String(e.message ?? e.type) }));
ws.onclose = (e) => console.log(JSON.stringify({ got, code: e.code, reason: e.reason, wasClean: e.wasClean, protocol: ws.protocol }));
`;

function runNodeClient(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '-e', CLIENT], {
      env: { ...process.env, WS_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`node client exited ${code}: ${err}`));
    });
  });
}

describe("Node's built-in WebSocket client", () => {
  let server: WebSocketServer;
  let url: string;
  const requests: SessionRequest[] = [];
  const closed: Promise<CloseInfo>[] = [];

  beforeAll(async () => {
    ({ server, url } = await ourServer({ protocols: ['superchat', 'chat'] }, (ws, request) => {
      requests.push(request);
      closed.push(ws.closed);
      ws.on('message', (data) => ws.send(data));
    }));
  });
  afterAll(() => within(server.close(), 15_000));

  it('echoes text and binary, negotiates a subprotocol and closes with a code', async () => {
    const line = await within(runNodeClient(`${url}/undici`), 20_000, 'node client');
    const result = JSON.parse(line.split('\n').at(-1)!);
    expect(result).toEqual({
      got: ['hello from undici', [1, 2, 3, 250], 'len:70000'],
      code: 4000,
      reason: '',
      wasClean: true,
      protocol: 'superchat',
    });
    expect(requests[0]!.path).toBe('/undici');
    expect(await within(closed[0]!)).toMatchObject({
      code: 4000,
      reason: 'undici-bye',
      wasClean: true,
      initiator: 'remote',
    });
  });
});
