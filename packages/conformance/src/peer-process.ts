// Peers under test as child processes: a server started from a command (ready once it prints a
// line containing `listening`), or a client loop. Each runs in its own process group, so stopping
// it (SIGTERM, then SIGKILL after a grace period) also stops whatever it started (pnpm → node).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const isWindows = process.platform === 'win32';
const live = new Set<PeerProcess>();
let exitHookInstalled = false;

export interface SpawnOptions {
  cwd?: string;
  /** Copy the child's output to our stderr as it comes. */
  echo?: boolean;
}

/** A value as one shell word (POSIX quoting; plain words stay as they are). */
export function shellQuote(value: string): string {
  if (/^[\w@%+=:,./-]+$/.test(value)) return value;
  if (isWindows) return `"${value.replace(/"/g, '""')}"`;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Replace `{name}` placeholders in a command template with shell-quoted values. */
export function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? shellQuote(String(values[name])) : whole,
  );
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class PeerProcess {
  readonly command: string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  readonly #listeners = new Set<(line: string) => void>();
  #exitCode: number | null | undefined = undefined;

  constructor(command: string, options: SpawnOptions = {}) {
    this.command = command;
    this.#child = spawn(command, {
      cwd: options.cwd,
      shell: true,
      detached: !isWindows,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    live.add(this);
    installExitHook();
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        if (options.echo) process.stderr.write(text);
        const parts = (partial + text).split(/\r?\n/);
        partial = parts.pop() ?? '';
        for (const line of parts) this.#line(line);
      });
      stream?.on('end', () => partial && this.#line(partial));
    }
    this.exited = new Promise((resolve) => {
      this.#child.once('error', (error) => {
        this.#line(`failed to start: ${error.message}`);
        this.#exitCode = 127;
        live.delete(this);
        resolve(127);
      });
      this.#child.once('exit', (code) => {
        this.#exitCode = code;
        live.delete(this);
        resolve(code);
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  /** The last lines it printed (stdout and stderr). */
  output(last = 40): string {
    return this.#lines.slice(-last).join('\n');
  }

  /** Resolves when a line contains `text`; rejects on exit or after `timeoutMs`. */
  waitForLine(text: string, timeoutMs: number): Promise<string> {
    const seen = this.#lines.find((l) => l.includes(text));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (error: Error | null, line?: string): void => {
        clearTimeout(timer);
        this.#listeners.delete(onLine);
        if (error) reject(error);
        else resolve(line!);
      };
      const onLine = (line: string): void => {
        if (line.includes(text)) done(null, line);
      };
      const timer = setTimeout(
        () => done(new Error(`no line containing "${text}" within ${timeoutMs} ms from: ${this.command}`)),
        timeoutMs,
      );
      this.#listeners.add(onLine);
      void this.exited.then((code) =>
        done(new Error(`exited with code ${code} before printing "${text}": ${this.command}`)),
      );
    });
  }

  /** SIGTERM the process group; SIGKILL it after `graceMs`. Resolves once it has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.#signal('SIGTERM');
    const timer = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // Anything the group left behind (a grandchild that ignored SIGTERM).
    this.#signal('SIGKILL');
  }

  /** Synchronous last resort (process exit). */
  kill(): void {
    this.#signal('SIGKILL');
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(isWindows ? pid : -pid, signal);
    } catch {
      /* already gone */
    }
  }

  #line(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > 400) this.#lines.splice(0, this.#lines.length - 400);
    for (const listener of [...this.#listeners]) listener(line);
  }
}

/** Never leave a peer running behind us, whatever way we exit. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const peer of live) peer.kill();
  });
}

/** Stop every peer still running (for signal handlers). */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(2000)));
}
