import { connect, createServer } from '@ws/node';

/** `wss:`: the same server with `tls` (any `tls.createServer` options). */
export async function startTlsServer(key: string | Buffer, cert: string | Buffer, port = 8443) {
  const server = createServer({ tls: { key, cert } }, (ws) => ws.on('message', (data) => ws.send(data)));
  await server.listen(port, '127.0.0.1');
  return server;
}

/** A client that trusts this (self-signed) certificate; `servername` when the URL's host is not the certificate's name. */
export function connectTls(port: number, cert: string | Buffer) {
  return connect(`wss://127.0.0.1:${port}/`, { ca: cert, servername: 'localhost' });
}
