// Floor for a JavaScript codec over Bun.listen (not a WebSocket server: measurement only): answers the
// upgrade with a fixed 101 (no checks), then echoes each whole small frame from the client,
// unmasked inline, one frame per read assumed. What is left when the codec and session cost nothing.
//   bun bun-floor-echo.ts --port P
const port = Number(Bun.argv[Bun.argv.indexOf('--port') + 1]);
const head = (key: string): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${Bun.SHA1.hash(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`, 'base64')}\r\n\r\n`;
Bun.listen<{ open: boolean }>({
  hostname: '127.0.0.1',
  port,
  socket: {
    binaryType: 'uint8array',
    open(socket) {
      socket.data = { open: false };
    },
    data(socket, chunk: Uint8Array) {
      if (!socket.data.open) {
        const text = Buffer.from(chunk).toString('latin1');
        const key = /Sec-WebSocket-Key: *([^\r]+)/i.exec(text)?.[1] ?? '';
        socket.data.open = true;
        socket.write(head(key));
        return;
      }
      const n = (chunk[1] ?? 0) & 0x7f; // small frames only
      const out = new Uint8Array(2 + n);
      out[0] = chunk[0] ?? 0;
      out[1] = n;
      for (let i = 0; i < n; i++) out[2 + i] = (chunk[6 + i] ?? 0) ^ (chunk[2 + (i & 3)] ?? 0);
      socket.write(out);
    },
  },
});
console.log(`listening on ws://127.0.0.1:${port}`);
process.on('SIGTERM', () => process.exit(0));
