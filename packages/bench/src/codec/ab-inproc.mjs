// Paired A/B of two codec bundles inside one process, alternating short CPU-timed runs, so both
// see the same machine noise: prints the median of the per-pair ratios B/A and its quartiles.
//   node src/codec/ab-inproc.mjs A.mjs B.mjs <size> <parser|conn|conn-text> [pairs]
import { randomFillSync } from 'node:crypto';
import path from 'node:path';

const [aPath, bPath, sizeArg = '16', mode = 'conn', pairsArg = '40'] = process.argv.slice(2);
const size = Number(sizeArg);
const count = Math.max(4, ((1 << 20) / size) | 0);
const H = (size < 126 ? 2 : size <= 0xffff ? 4 : 10) + 4;
const pristine = Buffer.allocUnsafe((size + H) * count);
for (let f = 0; f < count; f++) {
  const o = f * (size + H);
  pristine[o] = mode === 'conn-text' ? 0x81 : 0x82;
  if (size < 126) pristine[o + 1] = 0x80 | size;
  else if (size <= 0xffff) {
    pristine[o + 1] = 0x80 | 126;
    pristine.writeUInt16BE(size, o + 2);
  } else {
    pristine[o + 1] = 0x80 | 127;
    pristine.writeUInt32BE(0, o + 2);
    pristine.writeUInt32BE(size, o + 6);
  }
  if (mode === 'conn-text') {
    // Zero mask key so in-place unmasking leaves valid ASCII text valid on every pass.
    pristine.fill(0, o + H - 4, o + H);
    pristine.fill(0x61, o + H, o + H + size);
  } else randomFillSync(pristine, o + H - 4, 4 + size);
}
const HANDSHAKE = Buffer.from(
  'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
);

async function setup(file) {
  const codec = await import(path.resolve(file));
  // A bundle from before the handshake split (Connection.server) or after it (serverConnection).
  const serverConnection = codec.serverConnection ?? ((options) => codec.Connection.server(options));
  const wire = Buffer.from(pristine);
  const chunks = [];
  for (let i = 0; i < wire.length; i += 65536) chunks.push(wire.subarray(i, Math.min(i + 65536, wire.length)));
  if (mode === 'parser') {
    const p = new codec.FrameParser({ expectMasked: true, maxFrameSize: 1 << 30 });
    return () => {
      let n = 0;
      for (const ch of chunks) {
        p.push(ch);
        for (;;) {
          const s = p.next();
          if (s === 0) break;
          if (s === 2 && p.frameEnd) n++;
        }
      }
      return n;
    };
  }
  const c = serverConnection({ limits: { maxMessageSize: 1 << 30, maxFrameSize: 1 << 30 } });
  c.receiveData(new Uint8Array(HANDSHAKE));
  c.nextEvent();
  c.send({ type: 'accept' });
  while (c.nextEvent());
  c.takeOutput();
  return () => {
    let n = 0;
    for (const ch of chunks) {
      c.receiveData(ch);
      while (c.nextEvent() !== null) n++;
    }
    return n;
  };
}
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const A = await setup(aPath),
  B = await setup(bPath);
for (let i = 0; i < 10; i++) {
  A();
  B();
}
const per = (fn) => {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t0 = cpu();
    const n = fn();
    best = Math.min(best, (cpu() - t0) / n);
  }
  return best;
};
const ratios = [],
  as = [],
  bs = [];
for (let i = 0; i < Number(pairsArg); i++) {
  const first = i % 2 === 0;
  const ta = first ? per(A) : 0;
  const tb = per(B);
  const ta2 = first ? ta : per(A);
  ratios.push(ta2 / tb);
  as.push(1 / ta2 / 1000);
  bs.push(1 / tb / 1000);
}
const q = (v, p) => {
  const s = [...v].sort((x, y) => x - y);
  return s[Math.floor(p * (s.length - 1))];
};
console.log(
  `${mode} ${size} B: A ${q(as, 0.5).toFixed(2)} M/s  B ${q(bs, 0.5).toFixed(2)} M/s  B/A median ${q(ratios, 0.5).toFixed(3)} (quartiles ${q(ratios, 0.25).toFixed(3)}–${q(ratios, 0.75).toFixed(3)})`,
);
