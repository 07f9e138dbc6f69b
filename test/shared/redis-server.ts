// A real Redis for tests (Node only: it spawns a process): Debian's `redis-server` on a free
// port of 127.0.0.1, no persistence, in a temporary directory; stopped (and restarted on the
// same port) by the test, and always killed when the worker exits. Where redis-server is not
// installed, `redisMissing` says why: tests skip with that reason, except under CI
// (process.env.CI), where a missing Redis fails the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sleep } from './wait.ts';

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];
export const REDIS_SERVER = CANDIDATES.find((file) => existsSync(file)) ?? null;

/** Why Redis tests cannot run here, or null. Under CI a missing redis-server is an error, not a skip. */
export const redisMissing: string | null = (() => {
  if (REDIS_SERVER !== null) return null;
  if (process.env.CI)
    throw new Error('redis-server is not installed: CI must have it (scripts/test.mjs installs it as a system peer)');
  return 'redis-server is not installed (apt-get install -y redis-server)';
})();

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port the OS says is free now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on `port`. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface TestRedis {
  port: number;
  url: string;
  /** Stop it (SIGKILL: as a crash; clients see their connections reset). */
  stop(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
  /** Stop for good and remove its directory. */
  close(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  if (REDIS_SERVER === null) throw new Error(redisMissing ?? 'redis-server missing');
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const proc = spawn(
      REDIS_SERVER,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    child = proc;
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}) on port ${port}`);
      if (await accepting(port)) return;
      await sleep(25);
    }
    throw new Error(`redis-server did not accept connections on ${port} within 5 s`);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (proc === null || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
