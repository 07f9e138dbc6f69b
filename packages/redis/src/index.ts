// @ws/redis: a Redis pub/sub broker for @ws topics, on Node, Deno and Bun. This file only re-exports.
export { RedisBroker } from './redis-broker.ts';
export type { RedisBrokerOptions, RedisBrokerStatus, RedisBrokerEvents } from './redis-broker.ts';
