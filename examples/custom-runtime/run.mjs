#!/usr/bin/env node
// The codec on a bare engine: @ws/codec bundled into one script and run inside QuickJS (no
// TextEncoder/TextDecoder, no crypto, no timers, no Buffer, no URL), talking WebSocket to a
// codec connection in Node. The bytes cross the engine boundary as ArrayBuffers; the random
// source and the clock are lent to QuickJS by the host.
//
//   pnpm example:custom-runtime          (or: node examples/custom-runtime/run.mjs)
//
// Two runs: a client inside QuickJS with the server in Node, then the reverse.
import { randomFillSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildCodecBundle, loadInNode } from './bundle.mjs';
import { startQuickJS } from './quickjs-peer.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUTFILE = path.join(HERE, 'dist', 'ws-codec.quickjs.js');

const bundle = await buildCodecBundle({ outfile: OUTFILE });
const minified = await buildCodecBundle({ minify: true });
console.log(
  `bundle: ${path.relative(process.cwd(), OUTFILE)}  ${kb(bundle.bytes)} (${kb(minified.bytes)} minified), from:`,
);
for (const input of bundle.inputs.filter((f) => !f.includes('codec/src/')))
  console.log(`  ${input.replace(/^.*node_modules\//, '')}`);
console.log(`  + ${bundle.inputs.filter((f) => f.includes('codec/src/')).length} modules of packages/codec/src`);

// The host runs the very same script (with Node's TextEncoder, crypto, … available to it).
const { serverConnection, clientConnection, encodeUtf8 } = loadInNode(bundle.code);

// What the host lends QuickJS.
const hostRandom = (bytes) => randomFillSync(bytes);
const hostNow = () => Date.now();

// ───────────────────────────── the conversation ─────────────────────────────

const FRAGMENTED = encodeUtf8('fragmented: grüße ☃ → 🎉 done');
const cut1 = FRAGMENTED.indexOf(0xc3) + 1; // inside the 2 bytes of 'ü'
const cut2 = FRAGMENTED.indexOf(0xf0) + 2; // inside the 4 bytes of '🎉'
const BLOB = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff); // a 16-bit length frame

/** [who sends, command]; both sides are pumped after each. */
const SCRIPT = [
  ['client', { type: 'text', data: 'héllo from the client — ünïcødé ✓ 你好 🌍' }],
  ['server', { type: 'text', data: 'Привет! The server answers: ok ✓ 🚀' }],
  ['client', { type: 'binary', data: Uint8Array.of(0, 1, 2, 127, 128, 254, 255) }],
  ['server', { type: 'binary', data: BLOB }],
  ['client', { type: 'ping', data: encodeUtf8('are you there?') }],
  ['server', { type: 'ping', data: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) }],
  ['client', { type: 'fragment', kind: 'text', data: FRAGMENTED.subarray(0, cut1), fin: false }],
  ['client', { type: 'fragment', kind: 'text', data: FRAGMENTED.subarray(cut1, cut2), fin: false }],
  ['client', { type: 'fragment', kind: 'text', data: FRAGMENTED.subarray(cut2), fin: true }],
  ['server', { type: 'fragment', kind: 'binary', data: BLOB.subarray(0, 100), fin: false }],
  ['server', { type: 'fragment', kind: 'binary', data: BLOB.subarray(100), fin: true }],
  ['client', { type: 'close', code: 4000, reason: 'done — à bientôt ✓' }],
];

async function run(title, quickjsRole) {
  console.log(`\n━━━ ${title} ━━━`);
  const engine = await startQuickJS({ bundle: bundle.code, random: hostRandom, now: hostNow });
  try {
    if (quickjsRole === 'client') {
      const env = engine.environment();
      console.log(
        'inside QuickJS: ' +
          Object.entries(env)
            .map(([k, v]) => `typeof ${k} = ${v}`)
            .join(', '),
      );
    }
    const url = 'ws://quickjs.example/chat';
    const options = { protocols: ['chat.v2', 'chat.v1'] };
    const client = quickjsRole === 'client' ? engine.client(url, options) : clientConnection(url, options);
    const server = quickjsRole === 'server' ? engine.server() : serverConnection();
    const sides = {
      client: { conn: client, name: quickjsRole === 'client' ? 'client (QuickJS)' : 'client (Node)', eof: false },
      server: { conn: server, name: quickjsRole === 'server' ? 'server (QuickJS)' : 'server (Node)', eof: false },
    };
    pump(sides);
    for (const [who, command] of SCRIPT) {
      console.log(`\n${sides[who].name} sends ${describeCommand(command)}`);
      sides[who].conn.send(command);
      pump(sides);
    }
    const { random, randomBytes, now } = engine.calls;
    console.log(`\nQuickJS asked the host for random bytes ${random}× (${randomBytes} bytes) and for the time ${now}×`);
    console.log(
      `final states: client ${client.state}${client.finished ? ' (finished)' : ''}, server ${server.state}${server.finished ? ' (finished)' : ''}`,
    );
  } finally {
    engine.dispose();
  }
}

/** Move each side's output to the other and react to events until both are quiet. */
function pump(sides) {
  const pairs = [
    [sides.client, sides.server],
    [sides.server, sides.client],
  ];
  for (let moved = true; moved; ) {
    moved = false;
    for (const [from, to] of pairs) {
      for (const output of from.conn.takeOutput()) {
        moved = true;
        if (output.type === 'write') {
          console.log(`  ${from.name} → ${describeBytes(output.data)}`);
          if (!to.eof) to.conn.receiveData(output.data);
        } else {
          console.log(`  ${from.name}: ${output.type} (TCP ${output.type === 'shutdown' ? 'FIN' : 'reset'})`);
          if (!to.eof) {
            to.eof = true;
            to.conn.receiveEof();
          }
        }
      }
      for (const event of to.conn.takeEvents()) {
        moved = true;
        console.log(`  ${to.name} ⇐ ${describeEvent(event)}`);
        if (event.type === 'request') {
          const protocol = event.request.protocols.includes('chat.v1') ? 'chat.v1' : null;
          to.conn.send({ type: 'accept', protocol });
        }
      }
    }
    // Time, as a driver gives it: tick(now) when a deadline is due (0: a wait just began, whose
    // clock the tick starts). The QuickJS side reads __host.now() itself.
    for (const side of [sides.client, sides.server]) {
      const due = side.conn.nextDeadline();
      if (due !== null && due <= hostNow()) side.conn.tick(hostNow());
    }
  }
}

// ───────────────────────────── printing ─────────────────────────────

const OPCODES = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

function describeBytes(bytes) {
  const text = new TextDecoder('latin1').decode(bytes);
  if (/^(GET |HTTP\/)/.test(text)) return 'HTTP\n      ' + text.trimEnd().split('\r\n').join('\n      ');
  // A whole frame in one write (the codec writes small frames that way): show its header.
  const fin = (bytes[0] & 0x80) !== 0;
  const opcode = bytes[0] & 0x0f;
  const masked = (bytes[1] & 0x80) !== 0;
  let length = bytes[1] & 0x7f;
  let header = 2;
  if (length === 126) [length, header] = [(bytes[2] << 8) | bytes[3], 4];
  header += masked ? 4 : 0;
  const hex =
    [...bytes.subarray(0, 12)].map((b) => b.toString(16).padStart(2, '0')).join(' ') + (bytes.length > 12 ? ' …' : '');
  if (length !== 127 && header + length === bytes.length) {
    return `frame ${OPCODES[opcode] ?? opcode}${fin ? '' : ' (FIN=0)'}${masked ? ', masked' : ''}, ${length}-byte payload: ${hex}`;
  }
  return `${bytes.length} bytes: ${hex}`;
}

function describeEvent(event) {
  switch (event.type) {
    case 'request':
      return `request ${event.request.method} ${event.request.target}, protocols [${event.request.protocols.join(', ')}]`;
    case 'open':
      return `open, protocol ${JSON.stringify(event.protocol)}${event.response ? `, HTTP ${event.response.status} ${event.response.statusText}` : ''}`;
    case 'text':
      return `text ${JSON.stringify(event.data)}`;
    case 'binary':
      return `binary, ${event.data.length} bytes: ${preview(event.data)}`;
    case 'ping':
    case 'pong':
      return `${event.type} [${preview(event.data)}]`;
    case 'close':
      return `close ${event.code} ${JSON.stringify(event.reason)}`;
    case 'closed':
      return `closed ${JSON.stringify(event.info)}`;
    default:
      return JSON.stringify(event);
  }
}

function describeCommand(command) {
  switch (command.type) {
    case 'text':
      return `text ${JSON.stringify(command.data)}`;
    case 'fragment':
      return `${command.kind} fragment of ${command.data.length} bytes${command.fin ? ' (last)' : ''}: ${preview(command.data)}`;
    case 'close':
      return `close ${command.code} ${JSON.stringify(command.reason)}`;
    default:
      return `${command.type} of ${command.data.length} bytes`;
  }
}

function preview(bytes) {
  return (
    [...bytes.subarray(0, 10)].map((b) => b.toString(16).padStart(2, '0')).join(' ') + (bytes.length > 10 ? ' …' : '')
  );
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

await run('client inside QuickJS  ⇄  server in Node', 'client');
await run('server inside QuickJS  ⇄  client in Node', 'server');
