/**
 * The contract between a server's topics and whatever carries publishes to other servers. A
 * server joins a broker once; through the link it gets back it says which topics have local
 * subscribers (so a broker listens only for those) and hands over each publish after delivering
 * it locally; the broker calls `deliver` with what other servers published, never with the
 * joining server's own messages. Delivery is the broker's to define: the in-process one is
 * synchronous and lossless, Redis pub/sub (`@ws/redis`) is at most once.
 */

/** A published message as it crosses servers. */
export interface BrokerMessage {
  /** A string is a text message, bytes a binary one. */
  data: string | Uint8Array;
  /** The publisher's per-message compression wish. */
  compress?: boolean;
}

/** What a server gives the broker when it joins. */
export interface BrokerMember {
  /** A message another server published to `topic` (one this server subscribes to). */
  deliver(topic: string, message: BrokerMessage): void;
}

/** What the broker gives back to a server that joined. */
export interface BrokerLink {
  /** The first local subscriber to `topic` came: start receiving it. */
  subscribe(topic: string): void;
  /** The last local subscriber to `topic` went: stop receiving it. */
  unsubscribe(topic: string): void;
  /** A publish made on this server (already delivered locally): carry it to the others. */
  publish(topic: string, message: BrokerMessage): void;
  /** The server is closing: leave the broker. */
  close(): void;
}

/** Carries publishes between servers. */
export interface Broker {
  join(member: BrokerMember): BrokerLink;
}
