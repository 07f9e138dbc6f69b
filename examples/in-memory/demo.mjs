// A client and a server @ws/codec connection talking through plain arrays: no sockets, no
// timers. Each side's output bytes are handed to the other side's receiveData(); the events
// that come out are printed. This is the whole integration loop an adapter implements:
//   receiveData(bytes) → nextEvent() … → send(command) → takeOutput() → write.
import { Connection } from '@ws/codec';
import { clientConnection } from '@ws/codec/client';
import { serverConnection } from '@ws/codec/server';

const client = clientConnection('ws://demo.local/chat', { protocols: ['chat.v1'] });
const server = serverConnection();

const show = (bytes) => {
  const text = new TextDecoder('latin1').decode(bytes);
  return /^(GET|HTTP)/.test(text)
    ? text.trimEnd().replace(/\r\n/g, '\n      ')
    : [...bytes.subarray(0, 24)].map((b) => b.toString(16).padStart(2, '0')).join(' ') +
        (bytes.length > 24 ? ` … (${bytes.length} bytes)` : '');
};

/** Move bytes from one side to the other and react to events, until both are quiet. */
function pump() {
  for (let moved = true; moved; ) {
    moved = false;
    for (const [from, to, name, peer] of [
      [client, server, 'client', 'server'],
      [server, client, 'server', 'client'],
    ]) {
      for (const output of from.takeOutput()) {
        moved = true;
        if (output.type === 'write') {
          console.log(`${name} → ${peer}: ${show(output.data)}`);
          to.receiveData(output.data);
        } else {
          console.log(`${name}: ${output.type}`);
          to.receiveEof();
        }
      }
      for (let event = to.nextEvent(); event; event = to.nextEvent()) {
        moved = true;
        react(peer, to, event);
      }
    }
  }
}

function react(name, conn, event) {
  switch (event.type) {
    case 'request':
      console.log(`${name} event: request ${event.request.path} offering ${JSON.stringify(event.request.protocols)}`);
      conn.send({ type: 'accept', protocol: event.request.protocols[0] ?? null });
      break;
    case 'open':
      console.log(`${name} event: open (protocol ${event.protocol})`);
      break;
    case 'text':
      console.log(`${name} event: text ${JSON.stringify(event.data)}`);
      if (name === 'server') conn.send({ type: 'text', data: event.data.toUpperCase() });
      break;
    case 'binary':
      console.log(`${name} event: binary ${event.data.length} bytes`);
      break;
    case 'closed':
      console.log(`${name} event: closed ${JSON.stringify(event.info)}`);
      break;
    default:
      console.log(
        `${name} event: ${event.type} ${JSON.stringify(event, (k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)).slice(0, 120)}`,
      );
  }
}

pump();
client.send({ type: 'text', data: 'hello, websocket' });
client.send({ type: 'ping', data: new TextEncoder().encode('are you there?') });
client.send({ type: 'binary', data: new Uint8Array(1000).fill(7) });
pump();
client.send({ type: 'close', code: 1000, reason: 'done' });
pump();
console.log(
  `\nclient: ${client.state}, finished ${client.finished}; server: ${server.state}, finished ${server.finished}`,
);
