/**
 * A {@link Broker} between the servers of one process: a publish on one reaches the
 * subscribers of every other server that joined, synchronously and without loss. Nothing to
 * install; the reference for what a broker does (`@ws/redis` does the same across processes).
 */
import type { Broker, BrokerLink, BrokerMember, BrokerMessage } from './broker.ts';

export class InProcessBroker implements Broker {
  /** The members listening to each topic. */
  readonly #topics = new Map<string, Set<BrokerMember>>();

  join(member: BrokerMember): BrokerLink {
    const topics = this.#topics;
    const mine = new Set<string>();
    const leave = (topic: string): void => {
      const members = topics.get(topic);
      if (members === undefined) return;
      members.delete(member);
      if (members.size === 0) topics.delete(topic);
    };
    return {
      subscribe: (topic) => {
        mine.add(topic);
        let members = topics.get(topic);
        if (members === undefined) topics.set(topic, (members = new Set()));
        members.add(member);
      },
      unsubscribe: (topic) => {
        mine.delete(topic);
        leave(topic);
      },
      publish: (topic: string, message: BrokerMessage) => {
        const members = topics.get(topic);
        if (members === undefined) return;
        for (const other of [...members]) if (other !== member) other.deliver(topic, message);
      },
      close: () => {
        for (const topic of mine) leave(topic);
        mine.clear();
      },
    };
  }
}
