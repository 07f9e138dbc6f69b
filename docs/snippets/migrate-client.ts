import { connect, createWebSocketStream, type WebSocketConnection } from '@ws/node';

// ws: const ws = new WebSocket(url, ['chat'], { headers: { authorization: 'Bearer t' } });
//     ws.on('open', () => ws.send('hi', (error) => …)); ws.on('message', (data) => …)
export async function talk(url: string): Promise<string> {
  const ws = await connect(url, { protocols: ['chat'], headers: { authorization: 'Bearer t' } });
  const reply = nextMessage(ws);
  ws.send('hi'); // no callback: returns 'buffered' past highWaterMark; await ws.drain() to wait
  const text = String(await reply);
  ws.close(1000, 'bye');
  await ws.closed; // ws: the 'close' event
  return text;
}

function nextMessage(ws: WebSocketConnection): Promise<string | Uint8Array> {
  return new Promise((resolve) => ws.once('message', resolve));
}

// ws: createWebSocketStream(ws, options): the same name and meaning here.
export function asDuplex(ws: WebSocketConnection) {
  return createWebSocketStream(ws);
}
