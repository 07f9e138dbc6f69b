// The three runtimes' echo servers (the root scripts' `echo:node`, `echo:deno`, `echo:bun`
// contracts), started as child processes on 127.0.0.1 with `--port 0`, plus any of the bins'
// shared limit and timeout flags; each prints `listening on ws://HOST:PORT`. A runtime whose echo
// script or binary is missing is skipped.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST } from './raw-client.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (name: string): string =>
  path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

export interface Runtime {
  name: 'node' | 'deno' | 'bun';
  command: string;
  args: string[];
  /** Why it cannot run here, or null. */
  missing: string | null;
  /** A cold start may build (Node: tsup) or compile (Deno) first. */
  startTimeout: number;
}

function runtime(
  name: Runtime['name'],
  command: string,
  script: string,
  args: string[],
  startTimeout: number,
): Runtime {
  const file = path.join(ROOT, script);
  const missing = !existsSync(file)
    ? `${script} does not exist yet`
    : !existsSync(command) && command !== process.execPath
      ? `${path.relative(ROOT, command)} is not installed`
      : null;
  return { name, command, args: [...args, file, '--port', '0', '--host', HOST], missing, startTimeout };
}

function deno(): Runtime {
  // `echo:deno` runs through packages/deno/bin/run.mjs, which passes signals on to Deno (the npm
  // `deno` shim in node_modules/.bin does not: SIGTERM would leave Deno running).
  const wrapper = path.join(ROOT, 'packages/deno/bin/run.mjs');
  const rt = runtime('deno', process.execPath, 'packages/deno/bin/echo.ts', [], 90_000);
  if (rt.missing === null && !existsSync(bin('deno'))) rt.missing = 'node_modules/.bin/deno is not installed';
  if (rt.missing === null && !existsSync(wrapper)) rt.missing = 'packages/deno/bin/run.mjs does not exist yet';
  rt.args = [wrapper, 'echo.ts', '--port', '0', '--host', HOST];
  return rt;
}

export const RUNTIMES: Runtime[] = [
  runtime('node', process.execPath, 'packages/node/bin/echo.mjs', [], 180_000),
  deno(),
  // node_modules/.bin/bun execs Bun itself, so signals reach it.
  runtime('bun', bin('bun'), 'packages/bun/bin/echo.ts', ['--conditions', 'source'], 60_000),
];

/** Process groups of echo servers still running; killed if this worker exits first. */
const groups = new Set<number>();
const killGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
  } catch {
    // already gone
  }
};
process.once('exit', () => {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
});

export interface EchoServer {
  port: number;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `ms`; resolves with the exit code. */
  stop(ms?: number): Promise<number | null>;
  /**
   * Sockets the server's processes hold open right now (listening, accepted, and the runtime's
   * own), counted from /proc; null where there is no /proc (not Linux).
   */
  sockets(): number | null;
  /**
   * Memory of the server's processes right now, in bytes, summed over the process tree from
   * /proc/PID/status: `rss` (resident) and `vm` (VmData: writable private memory mapped, so a
   * buffer allocated but not yet written counts here, not in `rss`, while the engines' PROT_NONE
   * reservations, such as a WebAssembly memory's guard region, do not); null where there is no /proc.
   */
  memory(): { rss: number; vm: number } | null;
}

/** `pid` and all its descendants, from /proc (a wrapper's child, e.g. run.mjs → deno, counts too). */
function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length && i < 64; i++) {
    try {
      const children = readFileSync(`/proc/${all[i]}/task/${all[i]}/children`, 'utf8').trim();
      if (children !== '') all.push(...children.split(/\s+/).map(Number));
    } catch {
      // exited meanwhile, or no /proc/…/children on this kernel
    }
  }
  return all;
}

/** Open socket descriptors of `pid` and its descendants, or null without /proc. */
function socketCount(pid: number): number | null {
  if (!existsSync(`/proc/${pid}/fd`)) return null;
  let sockets = 0;
  for (const p of processTree(pid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${p}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // closed while we looked
      }
    }
  }
  return sockets;
}

/** VmRSS and VmSize of `pid` and its descendants, in bytes, or null without /proc. */
function memoryOf(pid: number): { rss: number; vm: number } | null {
  if (!existsSync(`/proc/${pid}/status`)) return null;
  let rss = 0;
  let vm = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
      vm += Number(/VmData:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return { rss, vm };
}

/** Start `rt`'s echo server; `extraArgs` (e.g. `['--handshake-timeout', '400']`) go after the defaults. */
export async function startEcho(rt: Runtime, extraArgs: readonly string[] = []): Promise<EchoServer> {
  // Its own process group, so that a wrapper (node → deno) and everything under it is stopped together.
  const child = spawn(rt.command, [...rt.args, ...extraArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // No update check: Deno would open a connection of its own at startup, which the socket counts would see.
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    detached: process.platform !== 'win32',
  });
  const pid = child.pid!;
  groups.add(pid);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      killGroup(pid, 'SIGKILL'); // anything the server left behind in its group
      groups.delete(pid);
      resolve(code);
    }),
  );
  const stop = async (ms = 5000): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return exited;
  };
  const deadline = Date.now() + rt.startTimeout;
  for (;;) {
    const match = /listening on ws:\/\/[^\s]*:(\d+)/.exec(out);
    if (match)
      return {
        port: Number(match[1]),
        child,
        output: () => out,
        exited,
        stop,
        sockets: () => socketCount(pid),
        memory: () => memoryOf(pid),
      };
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop(1000);
      throw new Error(`${rt.name} echo server did not start: ${out.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
