// The WHATWG WebSocketStream on Deno: the scenarios shared by every runtime (test/shared/web-socket-stream.ts).
import {
  echoThroughStreams,
  fromServerConnection,
  refusedAndAborted,
  slowReaderPausesPeer,
  writerAwaits,
  type StreamClass,
} from '../../../test/shared/web-socket-stream.ts';
import { connect, WebSocketStream } from '../src/index.ts';
import { ourServer } from './helpers.ts';

const Stream = WebSocketStream as unknown as StreamClass;

Deno.test('WebSocketStream: opened gives the streams; what is written comes back; close({ closeCode, reason })', () =>
  echoThroughStreams(ourServer, Stream));
Deno.test('WebSocketStream: a reader that does not read pauses the peer; then every message in order', () =>
  slowReaderPausesPeer(ourServer, Stream));
Deno.test('WebSocketStream: a writer awaits a peer that does not read', () => writerAwaits(ourServer, Stream));
Deno.test("WebSocketStream.from(a server's connection): its readable piped to its writable echoes", () =>
  fromServerConnection(ourServer, Stream, (url) => connect(url)));
Deno.test('WebSocketStream: a refused handshake and an abort reject opened and closed', () =>
  refusedAndAborted(ourServer, Stream));
