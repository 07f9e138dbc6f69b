// Size budgets (size-limit with esbuild: bundled, minified, then gzipped at level 9), one per
// entry point a user imports, measured on the built dist/ (`pnpm run pack` builds it; CI runs
// `pnpm run size` in the packages stage of `npm test`). README.md "Install" states the figures.
// Dependencies are bundled in (pako, uint8arrays); the host's own modules are not: `node:*`
// for the Node-side packages, `bun` for @ws/bun, ioredis for @ws/redis.
const node = (config) => ({ ...config, platform: 'node' });
const codec = (file) => `packages/codec/dist/${file}`;

export default [
  {
    name: '@ws/codec core: Connection (handshakes, frames, UTF-8, close, limits)',
    path: codec('index.js'),
    import: '{ Connection }',
    limit: '27 KiB',
  },
  {
    name: '@ws/codec, everything its main entry exports',
    path: codec('index.js'),
    import: '*',
    limit: '30 KiB',
  },
  {
    name: '@ws/codec + @ws/codec/pako: Connection with permessage-deflate on pako (pure JS)',
    path: [codec('index.js'), codec('pako.js')],
    import: { [codec('index.js')]: '{ Connection }', [codec('pako.js')]: '{ permessageDeflate }' },
    limit: '41.5 KiB',
  },
  {
    name: '@ws/codec/session: the session layer (WebSocketConnection, WebSocket class, servers)',
    path: codec('session.js'),
    import: '*',
    limit: '39.5 KiB',
  },
  {
    name: '@ws/zlib (with the parts of the codec it uses)',
    path: 'packages/zlib/dist/index.js',
    import: '*',
    modifyEsbuildConfig: node,
    limit: '4.5 KiB',
  },
  {
    name: '@ws/node (codec, session, zlib included)',
    path: 'packages/node/dist/index.js',
    import: '*',
    modifyEsbuildConfig: node,
    limit: '45.5 KiB',
  },
  {
    name: '@ws/deno (codec, session, zlib included)',
    path: 'packages/deno/dist/index.js',
    import: '*',
    modifyEsbuildConfig: node,
    limit: '45 KiB',
  },
  {
    name: '@ws/bun (codec, session, zlib included)',
    path: 'packages/bun/dist/index.js',
    import: '*',
    ignore: ['bun'],
    modifyEsbuildConfig: node,
    limit: '44.5 KiB',
  },
  {
    name: '@ws/redis (with what it uses of the codec; ioredis not counted)',
    path: 'packages/redis/dist/index.js',
    import: '*',
    ignore: ['ioredis'],
    modifyEsbuildConfig: node,
    limit: '13.5 KiB',
  },
].map((check) => ({ gzip: true, ...check }));
