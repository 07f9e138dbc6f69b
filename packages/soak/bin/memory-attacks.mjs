#!/usr/bin/env node
// The memory findings of the second security review, replayed against one runtime's echo server
// (a child process on 127.0.0.1), each against a fresh server: its memory (RSS and VmData of its
// process tree, from /proc) before the attack and at the peak during it. Bounded: every attack
// sends a fixed amount and every wait has a deadline. Prints one JSON line per attack.
//
//   node packages/soak/bin/memory-attacks.mjs --runtime node|deno|bun [--root DIR] [--attacks a,b]
//
//   header        16 connections, each a frame header declaring 64 MiB − 1 and then 2 MiB of it
//   pings         1 and 4 connections flooding 125-byte pings (64 MiB each) without reading
//   fragments     1 connection, a message in 131,071 one-byte fragments (not finished)
//   fragments-8   the same from 8 connections at once (not run by default)
//   slow-readers  200 connections each sending 8 MiB of 64 KiB messages to echo, never reading
//
// `--root` runs another checkout's echo server (e.g. a worktree of an older commit), for before/after.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HOST = '127.0.0.1';
const MiB = 1024 * 1024;
const args = { runtime: 'node', root: HERE, attacks: 'header,pings,fragments,slow-readers', flags: '' };
const argv = process.argv.slice(2).filter((a) => a !== '--');
for (let i = 0; i < argv.length; i += 2) {
  const name = argv[i].replace(/^--/, '');
  if (!(name in args) || argv[i + 1] === undefined) {
    console.error(`usage: memory-attacks.mjs [--${Object.keys(args).join(' V] [--')} V]`);
    process.exit(2);
  }
  args[name] = argv[i + 1];
}
const ROOT = path.resolve(args.root);
const SERVERS = {
  node: () => [process.execPath, ['packages/node/bin/echo.mjs']],
  deno: () => [process.execPath, ['packages/deno/bin/run.mjs', 'echo.ts']],
  bun: () => [path.join(ROOT, 'node_modules/.bin/bun'), ['--conditions', 'source', 'packages/bun/bin/echo.ts']],
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (n) => Math.round((n / MiB) * 10) / 10;
const deadline = setTimeout(() => {
  console.error('memory-attacks: stopped by its deadline (10 min)');
  process.exit(1);
}, 600_000);
deadline.unref();

/** RSS and VmData of `pid` and its descendants (the deno wrapper runs deno as a child). */
function memory(pid) {
  let rss = 0;
  let data = 0;
  const visit = (p) => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      data += Number(/VmData:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        for (const kid of kids ? kids.split(/\s+/) : []) visit(kid);
      }
    } catch {
      /* gone */
    }
  };
  visit(pid);
  return { rss, data };
}

async function startServer(extra) {
  const [cmd, cmdArgs] = SERVERS[args.runtime]();
  const child = spawn(cmd, [...cmdArgs, '--port', '0', '--host', HOST, ...extra], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(`${code ?? signal}`)));
  for (let i = 0; i < 1200; i++) {
    const match = /listening on ws:\/\/[^\s]*:(\d+)/.exec(out);
    if (match)
      return {
        port: Number(match[1]),
        pid: child.pid,
        exited,
        output: () => out,
        stop: () => process.kill(-child.pid, 'SIGKILL'),
      };
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`server did not start: ${out.slice(-500)}`);
}

/** A masked client frame. */
function frame(b0, payload) {
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = Buffer.alloc(2 + ext + 4 + n);
  out[0] = b0;
  out[1] = 0x80 | (n < 126 ? n : n < 65536 ? 126 : 127);
  if (ext === 2) out.writeUInt16BE(n, 2);
  if (ext === 8) out.writeBigUInt64BE(BigInt(n), 2);
  const key = randomBytes(4);
  key.copy(out, 2 + ext);
  for (let i = 0; i < n; i++) out[6 + ext + i] = payload[i] ^ key[i & 3];
  return out;
}

/** A raw client that has completed the handshake; `paused` sockets never read. */
async function open(port) {
  const socket = net.connect({ host: HOST, port });
  socket.on('error', () => {});
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    `GET / HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let head = '';
  await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        head.startsWith('HTTP/1.1 101') ? resolve() : reject(new Error(head));
      }
    };
    socket.on('data', onData);
  });
  return socket;
}

/** Write; wait for the socket to take more (or give up after `ms`). False once it is gone or stalled. */
function push(socket, data, ms = 2000) {
  if (socket.destroyed) return Promise.resolve(false);
  if (socket.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const done = (ok) => {
      clearTimeout(timer);
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      resolve(ok && !socket.destroyed);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

/** Run `attack` against a fresh server, sampling its memory every 50 ms; report baseline and peak. */
async function measure(name, extra, attack) {
  const server = await startServer(extra);
  await sleep(500);
  const before = memory(server.pid);
  let peak = { ...before };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const now = memory(server.pid);
      peak = { rss: Math.max(peak.rss, now.rss), data: Math.max(peak.data, now.data) };
      await sleep(50);
    }
  })();
  const sockets = [];
  let detail = {};
  let died = null;
  server.exited.then((how) => (died = how));
  try {
    detail = (await attack(server.port, sockets)) ?? {};
  } catch (error) {
    detail.error = String(error.message ?? error);
  }
  await sleep(1000);
  sampling = false;
  await sampler;
  const dropped = sockets.filter((s) => s.destroyed || s.readableEnded).length;
  for (const s of sockets) s.destroy();
  server.stop();
  console.log(
    JSON.stringify({
      runtime: args.runtime,
      root: path.relative(HERE, ROOT) || '.',
      attack: name,
      rssBeforeMiB: mib(before.rss),
      rssPeakMiB: mib(peak.rss),
      rssGrowthMiB: mib(peak.rss - before.rss),
      vmDataGrowthMiB: mib(peak.data - before.data),
      connections: sockets.length,
      droppedByServer: dropped,
      serverDied: died,
      ...detail,
    }),
  );
}

const ATTACKS = {
  header: () =>
    measure('16 x (64 MiB - 1 header + 2 MiB)', [], async (port, sockets) => {
      const header = Buffer.alloc(14);
      header[0] = 0x82;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(64 * MiB - 1), 2);
      const payload = Buffer.alloc(2 * MiB, 0x61);
      for (let i = 0; i < 16; i++) sockets.push(await open(port));
      await Promise.all(sockets.map((s) => push(s, Buffer.concat([header, payload]), 10_000)));
      await sleep(2000);
      return { sentMiB: 32 };
    }),
  pings: async () => {
    for (const n of [1, 4]) {
      await measure(`${n} x ping flood (64 MiB each), peer not reading`, [], async (port, sockets) => {
        const ping = frame(0x89, Buffer.alloc(125, 0x70));
        const batch = Buffer.concat(Array.from({ length: Math.ceil(MiB / ping.length) }, () => ping));
        for (let i = 0; i < n; i++) sockets.push(await open(port));
        let sent = 0;
        await Promise.all(
          sockets.map(async (s) => {
            s.pause();
            for (let i = 0; i < 64 && (await push(s, batch, 5000)); i++) sent += batch.length;
          }),
        );
        await sleep(2000);
        return { sentMiB: mib(sent) };
      });
    }
  },
  fragments: () =>
    measure('131,071 one-byte fragments', [], async (port, sockets) => {
      const parts = [];
      for (let i = 0; i < 131_071; i++) parts.push(frame(i === 0 ? 0x02 : 0x00, Buffer.of(i & 0xff)));
      const wire = Buffer.concat(parts);
      sockets.push(await open(port));
      await push(sockets[0], wire, 10_000);
      await sleep(2000);
      return { sentKiB: Math.round(wire.length / 1024) };
    }),
  // The same from 8 connections at once, per connection: what one connection's figure holds
  // beyond the engine's first-use cost (JIT code for the parse path, compiled once per process).
  'fragments-8': () =>
    measure('8 x 131,071 one-byte fragments', [], async (port, sockets) => {
      const parts = [];
      for (let i = 0; i < 131_071; i++) parts.push(frame(i === 0 ? 0x02 : 0x00, Buffer.of(i & 0xff)));
      const wire = Buffer.concat(parts);
      for (let i = 0; i < 8; i++) sockets.push(await open(port));
      await Promise.all(sockets.map((s) => push(s, wire, 10_000)));
      await sleep(2000);
      return { sentKiB: Math.round((8 * wire.length) / 1024) };
    }),
  'slow-readers': () =>
    measure('200 slow readers x 8 MiB of 64 KiB echoes', [], async (port, sockets) => {
      const message = frame(0x82, Buffer.alloc(64 * 1024, 0x62));
      const batch = Buffer.concat(Array.from({ length: 32 }, () => message));
      for (let i = 0; i < 200; i++) {
        const s = await open(port);
        s.pause();
        sockets.push(s);
      }
      let sent = 0;
      await Promise.all(
        sockets.map(async (s) => {
          for (let i = 0; i < 4 && (await push(s, batch, 15_000)); i++) sent += batch.length;
        }),
      );
      await sleep(8000); // past the default grace period (5 s)
      return { sentMiB: mib(sent) };
    }),
};

for (const name of args.attacks.split(',')) await ATTACKS[name]();
process.exit(0);
