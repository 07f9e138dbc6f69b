// Node, ESM: @ws/node's exchange, plus what the READMEs of @ws/codec (/pako) and @ws/zlib show.
import assert from 'node:assert/strict';
import * as node from '@ws/node';
import { Connection, WebSocketUsageError, permessageDeflate as corePermessageDeflate } from '@ws/codec';
import { clientConnection } from '@ws/codec/client';
import { serverConnection } from '@ws/codec/server';
import { permessageDeflate, pakoBackend } from '@ws/codec/pako';
import { permessageDeflate as zlibPermessageDeflate, zlibBackend } from '@ws/zlib';
import { ConnectionPair } from '@ws/codec/testing';
import { exchange } from './scenario.mjs';

// packages/codec/README.md, "permessage-deflate (@ws/codec/pako)"
const server = serverConnection({ extensions: [permessageDeflate({ serverMaxWindowBits: 12 })] });
assert.equal(server.state, 'handshake');
assert.throws(() => corePermessageDeflate(), WebSocketUsageError);
assert.deepEqual(
  corePermessageDeflate({ serverMaxWindowBits: 12, backend: pakoBackend }).offer(),
  permessageDeflate({ serverMaxWindowBits: 12 }).offer(),
);
// packages/zlib/README.md
assert.equal(zlibBackend?.name, 'node:zlib');
serverConnection({ extensions: [zlibPermessageDeflate()] });
clientConnection('ws://example.test/', { extensions: [zlibPermessageDeflate({ clientMaxWindowBits: 12 })] });
// The testing kit's pair, with pako on both ends.
const pair = new ConnectionPair({
  client: { extensions: [permessageDeflate()] },
  server: { extensions: [permessageDeflate()] },
});
assert.equal(pair.client.state, 'handshake');

await exchange(node, 'node ESM (@ws/node)');
