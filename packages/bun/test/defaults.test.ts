// @ws/bun with default options: the server's keepalive is on (a ping after 30 s of silence),
// checked over real sockets with the session's timers on a fake clock (test/shared/keepalive-default.ts).
import { describe, it } from 'bun:test';
import { connect } from '../src/index.ts';
import { checkServerKeepaliveDefault } from '../../../test/shared/keepalive-default.ts';
import { ourServer } from './helpers.ts';

describe('@ws/bun defaults', () => {
  it('a server pings a silent peer after 30 s; our client answers and never pings', async () => {
    await checkServerKeepaliveDefault(async (options, onConnection) => {
      const { server, url } = await ourServer(options, onConnection);
      return { url, close: () => server.close() };
    }, connect);
  });
});
