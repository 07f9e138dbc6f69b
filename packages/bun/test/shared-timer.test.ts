// @ws/bun: a server's idle connections share one timer (the session's deadline sweep), and
// keepalive pings and idle closes still come on time, over real sockets with the server's
// timers on a fake clock (test/shared/shared-timer.ts).
import { describe, it } from 'bun:test';
import { connect } from '../src/index.ts';
import { checkIdleCloseSharesOneTimer, checkKeepaliveSharesOneTimer } from '../../../test/shared/shared-timer.ts';
import { ourServer } from './helpers.ts';

const serve = async (options: Parameters<typeof ourServer>[0], onConnection: Parameters<typeof ourServer>[1]) => {
  const { server, url } = await ourServer(options, onConnection);
  return { url, close: () => server.close() };
};

describe('@ws/bun: one timer for a server', () => {
  it('keepalive pings every idle connection through one shared timer', async () => {
    await checkKeepaliveSharesOneTimer(serve, connect);
  });
  it('idle connections close through one shared timer, none left after', async () => {
    await checkIdleCloseSharesOneTimer(serve, connect);
  });
});
