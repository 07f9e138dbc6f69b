/**
 * The plain-HTTP side of every runtime's echo server (`packages/*\/bin/echo.*`), one handler
 * for all three: `GET /health` answers `200 ok` (a load balancer's check), `GET /` a small
 * HTML page that opens a WebSocket to the same port, anything else 404. Uses the host's
 * `Response` (the echo servers run on Node, Deno and Bun, which all have one).
 */
import type { FetchRequest, FetchResponse } from '../http-exchange.ts';

/** The page `GET /` serves: it echoes one message through a WebSocket on the same origin. */
export const ECHO_PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>@ws echo</title>
<p id="status">connecting…</p>
<script>
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/');
  ws.onopen = () => ws.send('hello');
  ws.onmessage = (event) => { document.getElementById('status').textContent = 'echoed: ' + event.data; };
</script>
</html>
`;

interface ResponseConstructor {
  new (body: string | null, init?: { status?: number; headers?: Record<string, string> }): FetchResponse;
}

/** The echo servers' `fetch` handler. */
export function echoFetch(request: FetchRequest): FetchResponse {
  const Response = (globalThis as unknown as { Response: ResponseConstructor }).Response;
  const { method, url } = request as { method: string; url: string };
  // The path of an absolute URL, without its query (no URL class needed).
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, '').replace(/[?#].*$/, '') || '/';
  const readable = method === 'GET' || method === 'HEAD';
  if (path === '/health' && readable)
    return new Response('ok', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  if (path === '/' && readable)
    return new Response(ECHO_PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } });
  return new Response('not found\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

interface StreamConstructor {
  new (source: {
    start(controller: { enqueue(chunk: Uint8Array): void; close(): void }): void | Promise<void>;
  }): unknown;
}

type BodyRequest = {
  method: string;
  url: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  headers: { forEach(each: (value: string, name: string) => void): void };
};

/**
 * The echo servers' `fetch` handler with routes for tests (`--fetch test`): `POST /echo` answers
 * with the request body, `GET /stream` streams three chunks (length unknown: chunked),
 * `GET /headers` answers with the request's header fields as JSON pairs (`[name, value]`, as the
 * host's `Headers` lists them), `GET /throw` and `GET /reject` fail (500), anything else as
 * {@link echoFetch}.
 */
export async function testFetch(request: FetchRequest): Promise<FetchResponse> {
  const host = globalThis as unknown as {
    Response: ResponseConstructor & (new (body: unknown, init?: object) => FetchResponse);
    ReadableStream: StreamConstructor;
    TextEncoder: new () => { encode(text: string): Uint8Array };
  };
  const { method, url } = request as unknown as BodyRequest;
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, '').replace(/[?#].*$/, '') || '/';
  if (path === '/echo' && method === 'POST') {
    const body = new Uint8Array(await (request as unknown as BodyRequest).arrayBuffer());
    return new host.Response(body, { headers: { 'content-type': 'application/octet-stream' } });
  }
  if (path === '/stream' && method === 'GET') {
    const encoder = new host.TextEncoder();
    const stream = new host.ReadableStream({
      async start(controller) {
        for (const part of ['one,', 'two,', 'three']) {
          controller.enqueue(encoder.encode(part));
          await new Promise((resolve) =>
            (globalThis as unknown as { setTimeout(f: () => void, ms: number): unknown }).setTimeout(
              () => resolve(null),
              20,
            ),
          );
        }
        controller.close();
      },
    });
    return new host.Response(stream, { headers: { 'content-type': 'text/plain' } });
  }
  if (path === '/headers' && method === 'GET') {
    const fields: Array<[string, string]> = [];
    (request as unknown as BodyRequest).headers.forEach((value, name) => fields.push([name, value]));
    return new host.Response(JSON.stringify(fields), { headers: { 'content-type': 'application/json' } });
  }
  if (path === '/throw') throw new Error('a handler that throws (test route)');
  if (path === '/reject') return Promise.reject(new Error('a handler that rejects (test route)'));
  return echoFetch(request);
}
