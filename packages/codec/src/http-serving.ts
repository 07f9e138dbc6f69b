/**
 * Plain HTTP beside upgrades, for a server made with the `http` option (`HttpServerPhase` from
 * `@ws/codec/http`, which owns the exchange itself: see `http/server-exchange.ts`). This is the
 * glue: the phase's bytes in, its events out as the connection's, the `http-*` commands to it,
 * and the table's moves (transitions.ts): the first plain request takes the connection from
 * `handshake` to `serving-http`, where it stays while requests are answered in turn, until an
 * upgrade (the server handshake goes on from that request's head), a refusal, or the end of the
 * connection.
 */
import { reportedState } from './transitions.ts';
import { WebSocketUsageError } from './errors.ts';
import type { Command } from './events.ts';
import type { HttpServerSettings } from './http/server-exchange.ts';
import type { Limits, Timeouts } from './limits.ts';
import { type ConnectionCore, move } from './connection-core.ts';
import { emit } from './event-queue.ts';
import { failAndDestroy, toClosed } from './closing.ts';
import { shutdownWrite, write } from './output-queue.ts';
import { type ServerHandshake, keepEarly, onRequestHead, refuseRequest } from './server-handshake.ts';
import { toBytes } from './connection-options.ts';

export type HttpCommand = Extract<Command, { type: 'http-response' | 'http-body' | 'http-end' | 'http-continue' }>;

/**
 * The settings made last, and from what: a server's connections share their (frozen) limits and
 * timeouts, so they share one settings object too (the phase never changes it).
 */
let lastLimits: Readonly<Limits> | null = null;
let lastTimeouts: Readonly<Timeouts> | null = null;
let lastSettings: HttpServerSettings | null = null;

/** The HTTP phase's bounds, from the connection's limits and timeouts. */
export function httpSettings(limits: Readonly<Limits>, timeouts: Readonly<Timeouts>): HttpServerSettings {
  if (limits === lastLimits && timeouts === lastTimeouts && lastSettings !== null) return lastSettings;
  const settings: HttpServerSettings = Object.freeze({
    maxHeadBytes: limits.maxHeadBytes,
    maxHeaders: limits.maxHeaders,
    maxBodyBytes: limits.maxBodyBytes,
    headTimeout: timeouts.handshakeTimeout,
    keepAliveTimeout: timeouts.httpKeepAliveTimeout,
  });
  // Only frozen inputs (the resolved limits and timeouts always are) can be trusted to stay as read.
  if (Object.isFrozen(limits) && Object.isFrozen(timeouts)) {
    lastLimits = limits;
    lastTimeouts = timeouts;
    lastSettings = settings;
  }
  return settings;
}

/** Bytes of plain requests (or of the head that upgrades). */
export function receiveHttp(core: ConnectionCore, hs: ServerHandshake, data: Uint8Array): void {
  hs.http?.receive(data);
  afterHttp(core, hs);
}

/** Carry out what the HTTP phase found: events to the caller, bytes to write, an upgrade, the end. */
export function afterHttp(core: ConnectionCore, hs: ServerHandshake): void {
  const http = hs.http;
  if (http === null) return;
  const writes = http.takeWrites();
  for (let i = 0; i < writes.length; i++) write(core, writes[i] as Uint8Array);
  // Taken one at a time: an upgrade or an end stops the phase, and what follows is not its.
  for (let event = http.nextEvent(); event !== undefined; event = http.nextEvent()) {
    switch (event.type) {
      case 'http-request':
        move(core, 'http-request');
        emit(core, event);
        break;
      case 'http-body':
      case 'http-body-end':
        emit(core, event);
        break;
      case 'answered':
        move(core, 'http-answered');
        break;
      case 'upgrade':
        hs.http = null;
        hs.startedAt = event.headStarted;
        onRequestHead(core, hs, event.request);
        if (event.rest.length > 0 && core.state === 'awaiting-accept') keepEarly(core, hs, event.rest);
        return;
      case 'refuse':
        hs.http = null;
        if (event.respond) refuseRequest(core, hs, event.code, event.status, event.message, []);
        else {
          const timedOut = event.code === 'HANDSHAKE_TIMEOUT' || event.code === 'REQUEST_TIMEOUT';
          failAndDestroy(core, timedOut ? 'timeout' : 'fail', event.code, event.message);
        }
        return;
      case 'close':
        hs.http = null;
        toClosed(core, event.reason === 'eof' ? 'eof' : event.reason === 'idle' ? 'timeout' : 'served', null);
        shutdownWrite(core);
        return;
    }
  }
}

/** The `http-*` commands, for the request being served. */
export function sendHttp(core: ConnectionCore, command: HttpCommand): void {
  const hs = core.hs;
  if (hs === null || hs.type !== 'server' || hs.http === null) {
    if (core.role === 'server' && core.state === 'closed') return; // refused or gone meanwhile: nothing to answer
    throw new WebSocketUsageError(
      'INVALID_STATE',
      `${command.type} is for a server with http serving a plain request (state: ${reportedState(core.state)})`,
    );
  }
  const http = hs.http;
  switch (command.type) {
    case 'http-response':
      http.respond({
        status: command.status,
        statusText: command.statusText,
        headers: command.headers,
        bodyLength: command.bodyLength,
      });
      break;
    case 'http-body':
      http.write(toBytes(command.data, 'http-body data'));
      break;
    case 'http-end':
      http.end();
      break;
    case 'http-continue':
      http.sendContinue();
      break;
  }
  afterHttp(core, hs);
}
