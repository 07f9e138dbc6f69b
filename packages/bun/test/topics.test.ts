// Topics on @ws/bun: the shared scenarios (test/shared/topics.ts) with Bun's server and client.
import { describe, it } from 'bun:test';
import { connect } from '../src/index.ts';
import { frameOnce, inProcessBroker, slowSubscriber, topicBasics } from '../../../test/shared/topics.ts';
import { ourServer } from './helpers.ts';

describe('topics', () => {
  it(
    'subscribe, unsubscribe, server.publish to all, ws.publish to all but the sender, unsubscribe on close',
    () => topicBasics(ourServer, connect),
    30_000,
  );
  it(
    'a publish frames once and writes the same bytes to every subscriber (deflate: once per setting)',
    () => frameOnce(ourServer, connect),
    30_000,
  );
  it(
    'a slow subscriber is bounded by backpressureLimit and never holds back the others',
    () => slowSubscriber(ourServer, connect),
    60_000,
  );
  it(
    'servers of one process sharing an InProcessBroker publish to each other, once',
    () => inProcessBroker(ourServer, connect),
    30_000,
  );
});
