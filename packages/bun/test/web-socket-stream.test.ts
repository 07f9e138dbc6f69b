// The WHATWG WebSocketStream on Bun: the scenarios shared by every runtime (test/shared/web-socket-stream.ts).
import { describe, it } from 'bun:test';
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

describe('WebSocketStream', () => {
  it(
    'opened gives the streams; what is written comes back; close({ closeCode, reason })',
    () => echoThroughStreams(ourServer, Stream),
    30_000,
  );
  it(
    'a reader that does not read pauses the peer; then every message in order',
    () => slowReaderPausesPeer(ourServer, Stream),
    60_000,
  );
  it('a writer awaits a peer that does not read', () => writerAwaits(ourServer, Stream), 60_000);
  it(
    "WebSocketStream.from(a server's connection): its readable piped to its writable echoes",
    () => fromServerConnection(ourServer, Stream, (url) => connect(url)),
    30_000,
  );
  it('a refused handshake and an abort reject opened and closed', () => refusedAndAborted(ourServer, Stream), 30_000);
});
