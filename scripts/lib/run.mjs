// Run a child process with inherited output and never leave anything behind.
//
// On POSIX the child gets its own process group (`detached`), so when it exits — or when we are
// interrupted — everything it started (vitest workers, servers spawned by tests, deno/bun) is
// signalled as a group. stdin is not passed on: nothing we run is interactive, and CI has none.
import { spawn } from 'node:child_process';

const isWindows = process.platform === 'win32';
const live = new Set(); // process-group ids still possibly alive

function killGroup(pid, signal) {
  try {
    if (isWindows) process.kill(pid, signal);
    else process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

function groupAlive(pid) {
  try {
    process.kill(isWindows ? pid : -pid, 0);
    return true;
  } catch {
    return false;
  }
}

let handlersInstalled = false;
let interruptedBy = null;
/** The signal that interrupted us (the caller should stop starting work), or null. */
export const interrupted = () => interruptedBy;

function installSignalHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      interruptedBy = signal;
      for (const pid of live) killGroup(pid, 'SIGTERM');
      // Children normally exit at once and the caller winds down; force it if they do not.
      setTimeout(() => {
        for (const pid of live) killGroup(pid, 'SIGKILL');
        process.exit(130);
      }, 3000).unref();
    });
  }
  process.on('exit', () => {
    for (const pid of live) killGroup(pid, 'SIGKILL');
  });
}

/**
 * Run `command args` and resolve with its exit code (a signal death counts as 1).
 * `options`: cwd, env (merged over process.env), shell.
 * @returns {Promise<number>}
 */
export function run(command, args = [], options = {}) {
  installSignalHandlers();
  if (interruptedBy) return Promise.resolve(130);
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: !isWindows,
      shell: options.shell ?? isWindows,
    });
    if (child.pid !== undefined) live.add(child.pid);
    child.on('error', (error) => {
      console.error(`failed to start ${command}: ${error.message}`);
      if (child.pid !== undefined) live.delete(child.pid);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      const pid = child.pid;
      // Reap stragglers the child left in its group (e.g. a server a test forgot to stop).
      if (pid !== undefined && groupAlive(pid)) {
        killGroup(pid, 'SIGTERM');
        setTimeout(() => killGroup(pid, 'SIGKILL'), 1000).unref();
      }
      if (pid !== undefined) live.delete(pid);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
