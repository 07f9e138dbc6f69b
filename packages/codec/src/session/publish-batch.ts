/**
 * Publishes written at the end of the task (topics, `ws.publish`). The messages a task publishes
 * (a read that held many, a loop of `publish` calls) leave each subscriber in one transport
 * write, not one each: the system call per subscriber is most of a publish's cost. One microtask
 * writes what every connection of every server was published in the task.
 *
 * Until then a subscriber holds no frames, only a range of `taskFrames` (in its `Subscription`),
 * extended while it gets every frame logged: at the flush, the frames of a range are gathered
 * into one buffer once and that same buffer goes to every subscriber with the same range (most
 * often all of them). A subscriber that missed a frame in between (another topic, skipped for
 * its backlog), or that writes anything else meanwhile (`send`, `close`…), first hands its range
 * to its codec as it stands: the order of its writes is kept.
 *
 * It works on the connection's {@link SessionCore} (its codec, its subscription, its
 * `PUBLISHED` bit, its send checks), as the other concern modules do; the registry's
 * {@link TopicDelivery} gets from a connection to its core through the one function the
 * connection hands over as its module loads.
 */
import type { MessageKind } from '../events.ts';
import { PUBLISHED, TERMINATED } from './connection-flags.ts';
import { microtask, reportError } from './emitter.ts';
import type { SessionCore } from './session-core.ts';
import { Subscription, type TopicDelivery } from './topics.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/** Connections (their cores) that publishes reached since the last flush. Reused: grows to the most subscribers one task reached. */
const publishedTo: SessionCore[] = [];
let publishFlushQueued = false;
/** The chunks of every frame published in this task, in order (each publish's once per shared-frame key). */
const taskFrames: Uint8Array[] = [];
/** The frames array last appended to `taskFrames`, and where it starts there. */
let loggedFrames: readonly Uint8Array[] | null = null;
let loggedAt = 0;
/** The last range gathered, shared by every subscriber with the same range. */
let gatheredFrom = -1;
let gatheredTo = -1;
let gathered: Uint8Array | null = null;
/** Ranges of more bytes go to the codec frame by frame (a large payload is not copied). */
const GATHER_LIMIT = 256 * 1024;
const NO_BYTES = new Uint8Array(0);
/** One frame for `sendFramed`, reused (the codec keeps the frame, not the array). */
const oneFrame: Uint8Array[] = [NO_BYTES];

/** Where `frames` start in `taskFrames` (appended at the first subscriber of a publish). */
function logFrames(frames: readonly Uint8Array[]): number {
  if (frames !== loggedFrames) {
    loggedFrames = frames;
    loggedAt = taskFrames.length;
    for (let i = 0; i < frames.length; i++) taskFrames.push(frames[i] as Uint8Array);
  }
  return loggedAt;
}

/** The bytes of `taskFrames[from..to)`, as one buffer made once for every subscriber with that range. */
function gather(from: number, to: number, bytes: number): Uint8Array {
  if (from !== gatheredFrom || to !== gatheredTo || gathered === null) {
    const buffer = new Uint8Array(bytes);
    let at = 0;
    for (let i = from; i < to; i++) {
      const frame = taskFrames[i] as Uint8Array;
      buffer.set(frame, at);
      at += frame.length;
    }
    gathered = buffer;
    gatheredFrom = from;
    gatheredTo = to;
  }
  return gathered;
}

/**
 * Hand the frames published to the connection in this task to its codec (a range of the log).
 * Its owner calls this before anything else it writes, so that the order is kept.
 */
export function writePublished(core: SessionCore): void {
  if ((core.flags & PUBLISHED) === 0) return;
  const sub = core.topics;
  if (!(sub instanceof Subscription) || sub.from === sub.to) return;
  const { from, to, bytes } = sub;
  sub.from = sub.to = sub.bytes = 0;
  const codec = core.codec;
  // Closing meanwhile (or terminated): as a subscriber skipped at the publish.
  if (!codec.canSendFramed || (core.flags & TERMINATED) !== 0) return;
  if (to - from > 1 && bytes <= GATHER_LIMIT) {
    oneFrame[0] = gather(from, to, bytes);
    codec.sendFramed(oneFrame);
  } else {
    for (let i = from; i < to; i++) {
      oneFrame[0] = taskFrames[i] as Uint8Array;
      codec.sendFramed(oneFrame);
    }
  }
  oneFrame[0] = NO_BYTES;
}

/** Bytes published to the connection in this task and not yet handed to its codec (part of its `bufferedAmount`). */
export function publishedBytes(core: SessionCore): number {
  const sub = core.topics;
  return sub instanceof Subscription ? sub.bytes : 0;
}

/** Write what publishes queued (see `publishedTo`). */
function flushPublished(): void {
  publishFlushQueued = false;
  // By index: a write may lead to more publishes (a listener), which join the list. A throw
  // (from a listener) is reported and the others are still written.
  for (let i = 0; i < publishedTo.length; i++) {
    const core = publishedTo[i] as SessionCore;
    try {
      writePublished(core);
      core.flags &= ~PUBLISHED;
      core.afterSend();
    } catch (error) {
      core.flags &= ~PUBLISHED;
      reportError(error);
    }
  }
  // Emptied with pop(), as the session's write array.
  while (publishedTo.length > 0) publishedTo.pop();
  while (taskFrames.length > 0) taskFrames.pop();
  loggedFrames = gathered = null;
  gatheredFrom = gatheredTo = -1;
}

/** The connection has something published to write at the end of the task. */
function published(core: SessionCore): void {
  if ((core.flags & PUBLISHED) !== 0) return;
  core.flags |= PUBLISHED;
  publishedTo.push(core);
  if (publishFlushQueued) return;
  publishFlushQueued = true;
  microtask(flushPublished);
}

/**
 * @internal The {@link TopicDelivery} of every connection; `coreOf` reaches a connection's core
 * (given once, by the connection's module).
 */
export function publishDelivery(coreOf: (connection: WebSocketConnection) => SessionCore): TopicDelivery {
  return {
    codec: (c) => coreOf(c).codec,
    framed: (c, frames, bytes, topics) => {
      const core = coreOf(c);
      if (!core.mayPublish(bytes, topics)) return false;
      const sub = core.topics;
      if (!(sub instanceof Subscription)) {
        core.codec.sendFramed(frames); // not subscribed (published to by other means): no range
        published(core);
        return true;
      }
      const at = logFrames(frames);
      if ((core.flags & PUBLISHED) !== 0 && sub.to === at && sub.from < sub.to) {
        sub.to = at + frames.length; // the next frames of the log: the range grows
        sub.bytes += bytes;
        return true;
      }
      writePublished(core); // a gap: what it has goes first, as it stands
      sub.from = at;
      sub.to = at + frames.length;
      sub.bytes = bytes;
      published(core);
      return true;
    },
    own: (c, kind: MessageKind, payload, compress, topics) => {
      // Framed (and compressed) by this connection: its bytes are about the payload's size.
      const core = coreOf(c);
      if (!core.mayPublish(payload.length, topics)) return false;
      writePublished(core);
      core.codec.send({ type: 'fragment', kind, data: payload, fin: true, compress });
      published(core);
      return true;
    },
  };
}
