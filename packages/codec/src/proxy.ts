// @ws/codec/proxy: the HTTP CONNECT tunnel a client opens through a proxy (RFC 9110 §9.3.6),
// and the proxy settings from the environment (`HTTPS_PROXY`, `NO_PROXY`, ...). An entry point
// of its own so that only clients that go through a proxy carry it. This file only re-exports.
export { ConnectTunnel, parseProxyUrl, proxyFor, noProxyMatches } from './http/connect-tunnel.ts';
export type { ProxyEndpoint, ProxyEnvironment, TunnelResult } from './http/connect-tunnel.ts';
