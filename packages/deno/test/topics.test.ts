// Topics on @ws/deno: the shared scenarios (test/shared/topics.ts) with Deno's server and client.
import { connect } from '../src/index.ts';
import { frameOnce, inProcessBroker, slowSubscriber, topicBasics } from '../../../test/shared/topics.ts';
import { ourServer } from './helpers.ts';

Deno.test('topics: subscribe, unsubscribe, server.publish to all, ws.publish to all but the sender, unsubscribe on close', () =>
  topicBasics(ourServer, connect));
Deno.test('topics: a publish frames once and writes the same bytes to every subscriber (deflate: once per setting)', () =>
  frameOnce(ourServer, connect));
Deno.test('topics: a slow subscriber is bounded by backpressureLimit and never holds back the others', () =>
  slowSubscriber(ourServer, connect));
Deno.test('topics: servers of one process sharing an InProcessBroker publish to each other, once', () =>
  inProcessBroker(ourServer, connect));
