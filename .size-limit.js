// Size budgets (size-limit with esbuild: bundled, minified, then gzipped at level 9), one per
// entry point a user imports, measured on the built dist/ (`pnpm run pack` builds it; CI runs
// `pnpm run size` in the packages stage of `npm test`). README.md "Install" states the figures.
// Each budget is the figure measured when it was set plus about 5 %: going past one means a
// change made a bundle heavier than that, to be trimmed or the budget raised in the same commit.
// The core's must stay at or under 20 KiB (issue 23): what only some users need is an entry point
// of its own (each role's handshake, plain HTTP, the CONNECT tunnel, pako), measured with the core.
// Dependencies are bundled in (pako, uint8arrays); the host's own modules are not: `node:*`
// for the Node-side packages, `bun` for @ws/bun, ioredis for @ws/redis.
const node = (config) => ({ ...config, platform: 'node' });
const codec = (file) => `packages/codec/dist/${file}`;

export default [
  {
    name: '@ws/codec core: Connection (frames, messages, UTF-8, close, limits, timeouts; no handshake role)',
    path: codec('index.js'),
    import: '{ Connection }',
    limit: '19 KiB',
  },
  {
    name: '@ws/codec, everything its main entry exports',
    path: codec('index.js'),
    import: '*',
    limit: '24.25 KiB',
  },
  {
    name: '@ws/codec/server: serverConnection (the core + the server handshake)',
    path: codec('server.js'),
    import: '{ serverConnection }',
    limit: '26.25 KiB',
  },
  {
    name: '@ws/codec/client: clientConnection (the core + the client handshake)',
    path: codec('client.js'),
    import: '{ clientConnection }',
    limit: '26.75 KiB',
  },
  {
    name: '@ws/codec/server + @ws/codec/http: a server that also serves plain HTTP',
    path: [codec('server.js'), codec('http.js')],
    import: { [codec('server.js')]: '{ serverConnection }', [codec('http.js')]: '{ HttpServerPhase }' },
    limit: '29.5 KiB',
  },
  {
    name: '@ws/codec/client + @ws/codec/proxy: a client through an HTTP CONNECT proxy',
    path: [codec('client.js'), codec('proxy.js')],
    import: { [codec('client.js')]: '{ clientConnection }', [codec('proxy.js')]: '{ ConnectTunnel, proxyFor }' },
    limit: '28 KiB',
  },
  {
    name: '@ws/codec/server + @ws/codec/pako: a server with permessage-deflate on pako (pure JS)',
    path: [codec('server.js'), codec('pako.js')],
    import: { [codec('server.js')]: '{ serverConnection }', [codec('pako.js')]: '{ permessageDeflate }' },
    limit: '41.5 KiB',
  },
  {
    name: '@ws/codec/http2: http2ServerConnection and http2ClientConnection (RFC 8441, with both HTTP/1.1 roles)',
    path: codec('http2.js'),
    import: '{ http2ServerConnection, http2ClientConnection }',
    limit: '30.5 KiB',
  },
  {
    name: '@ws/codec/session: the session layer (WebSocketConnection, WebSocket class, servers)',
    path: codec('session.js'),
    import: '*',
    limit: '57 KiB',
  },
  {
    name: '@ws/zlib (with the parts of the codec it uses)',
    path: 'packages/zlib/dist/index.js',
    import: '*',
    modifyEsbuildConfig: node,
    limit: '5 KiB',
  },
  {
    name: '@ws/node (codec, session, zlib included)',
    path: 'packages/node/dist/index.js',
    import: '*',
    modifyEsbuildConfig: node,
    limit: '67.25 KiB',
  },
  {
    name: '@ws/deno (codec, session, zlib included)',
    path: 'packages/deno/dist/index.js',
    import: '*',
    modifyEsbuildConfig: node,
    limit: '67.5 KiB',
  },
  {
    name: '@ws/bun (codec, session, zlib included)',
    path: 'packages/bun/dist/index.js',
    import: '*',
    ignore: ['bun'],
    modifyEsbuildConfig: node,
    limit: '64.5 KiB',
  },
  {
    name: '@ws/redis (with what it uses of the codec; ioredis not counted)',
    path: 'packages/redis/dist/index.js',
    import: '*',
    ignore: ['ioredis'],
    modifyEsbuildConfig: node,
    // The codec's emitter alone (`@ws/codec/emitter`, 2.18 KiB with the broker): importing Emitter
    // from `@ws/codec/session` brought the session layer with it (17.0 KiB), whose connection
    // wires itself up as its module loads, which a bundler keeps.
    limit: '2.3 KiB',
  },
].map((check) => ({ gzip: true, ...check }));
