import { createServer } from '@ws/node';

/** Accept only requests carrying a known token (a header from servers, `?token=` from browsers). */
export function startAuthServer(sessions: Map<string, string>, port = 8080) {
  const userOf = (request: { headers: { get(name: string): string | null }; query: string }) => {
    const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? new URLSearchParams(request.query).get('token');
    return token === null ? undefined : sessions.get(token);
  };
  const server = createServer(
    {
      // May be async (look the token up in a database): the handshake waits for it.
      verifyClient: async (request) => (userOf(request) !== undefined ? true : { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: 'who are you?' }),
    },
    (ws, request) => {
      ws.send(`hello ${userOf(request)}`);
    },
  );
  return server.listen(port, '127.0.0.1').then(() => server);
}
