// The echo servers' plain-HTTP handlers (@ws/codec/testing), called directly with the host's
// Request: the contract every runtime's echo bin serves (and test/adapters/http.test.ts checks
// over sockets), here without a server.
import { describe, expect, it } from 'vitest';
import { ECHO_PAGE, echoFetch, testFetch } from '../src/session/tooling/index.ts';

type Handler = (request: never) => unknown;

const call = async (
  handler: Handler,
  method: string,
  url: string,
  body?: string,
): Promise<{ status: number; type: string | null; text: string }> => {
  const response = (await handler(new Request(url, { method, body }) as never)) as unknown as Response;
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
};

describe('echoFetch / testFetch', () => {
  it('GET /health is 200 ok, GET / the page, anything else 404 (query and absolute URL ignored)', async () => {
    expect(await call(echoFetch, 'GET', 'http://h/health?x=1')).toEqual({
      status: 200,
      type: 'text/plain; charset=utf-8',
      text: 'ok',
    });
    expect(await call(echoFetch, 'GET', 'http://h/')).toEqual({
      status: 200,
      type: 'text/html; charset=utf-8',
      text: ECHO_PAGE,
    });
    expect((await call(echoFetch, 'HEAD', 'http://h/health')).status).toBe(200);
    expect((await call(echoFetch, 'POST', 'http://h/health', 'x')).status).toBe(404);
    expect((await call(echoFetch, 'GET', 'http://h/nope')).status).toBe(404);
  });

  it('the test routes: POST /echo returns the body, /stream streams, /throw and /reject fail, the rest as echoFetch', async () => {
    expect(await call(testFetch, 'POST', 'http://h/echo', 'body bytes')).toMatchObject({
      status: 200,
      text: 'body bytes',
    });
    expect(await call(testFetch, 'GET', 'http://h/stream')).toMatchObject({ status: 200, text: 'one,two,three' });
    await expect(call(testFetch, 'GET', 'http://h/throw')).rejects.toThrow(/throws/);
    await expect(call(testFetch, 'GET', 'http://h/reject')).rejects.toThrow(/rejects/);
    expect((await call(testFetch, 'GET', 'http://h/health')).text).toBe('ok');
  });
});
