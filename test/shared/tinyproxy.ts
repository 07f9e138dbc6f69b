// A real HTTP CONNECT proxy for client tests: Debian's tinyproxy (installed by `npm test` in CI),
// run in the foreground on 127.0.0.1 with a config written here, on a port picked by the OS, and
// stopped by `stop()`. Uses node:* only, so vitest, `deno test` and `bun test` can all use it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const TINYPROXY = '/usr/bin/tinyproxy';

export interface Tinyproxy {
  port: number;
  /** `http://127.0.0.1:PORT` (without credentials). */
  url: string;
  /** The `CONNECT host:port` targets the proxy has been asked for, in order. */
  connects(): string[];
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Require these Basic credentials (407 without them). */
  auth?: { username: string; password: string };
  /** Allow CONNECT to these ports only (403 for others). Default: any port. */
  connectPorts?: number[];
}

/** A free port on 127.0.0.1, from the OS. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  if (!existsSync(TINYPROXY))
    throw new Error(`${TINYPROXY} is not installed (apt-get install tinyproxy; npm test installs it as root)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-tinyproxy-'));
  const log = path.join(dir, 'tinyproxy.log');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const lines = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Allow 127.0.0.1',
      `LogFile "${log}"`,
      'LogLevel Connect',
      'MaxClients 200',
      'Timeout 30',
    ];
    if (options.auth) lines.push(`BasicAuth ${options.auth.username} ${options.auth.password}`);
    for (const p of options.connectPorts ?? []) lines.push(`ConnectPort ${p}`);
    const config = path.join(dir, 'tinyproxy.conf');
    writeFileSync(config, `${lines.join('\n')}\n`);
    const child: ChildProcess = spawn(TINYPROXY, ['-d', '-c', config], { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    // Bounded: up to 5 s for it to listen.
    for (let i = 0; i < 100 && !exited; i++) {
      if (await accepts(port)) {
        return {
          port,
          url: `http://127.0.0.1:${port}`,
          connects: () => {
            const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
            return [...text.matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!);
          },
          stop: async () => {
            if (!exited) {
              const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
              child.kill('SIGTERM');
              await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 3000))]);
              if (!exited) child.kill('SIGKILL');
            }
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!exited) child.kill('SIGKILL');
    // The port was taken in between, or the proxy failed to start: try another port.
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('tinyproxy did not start listening on 127.0.0.1 within 5 attempts');
}
