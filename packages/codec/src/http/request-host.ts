/**
 * Which host a request is for (RFC 9112 §3.2), checked once for upgrades and plain requests
 * alike: the `Host` field (at most one, RFC 3986 authority characters, no userinfo), and for an
 * absolute-form target (`GET http://host/path`, §3.2.2) its authority, which must pass the same
 * check and equal `Host` (ASCII case ignored: a client MUST send them identical, §3.2). So the
 * host an application sees is always a checked `Host` value: a check that reads `Host` and a
 * router that reads the target cannot disagree.
 */
import type { ProtocolErrorCode } from '../errors.ts';
import { sameAsciiCase } from './ascii-case.ts';
import type { HeadError, RequestHead } from './head-parser.ts';
import { fieldCount } from './headers.ts';

// RFC 3986 §3.2.2/§3.2.3 authority characters (no userinfo, RFC 9110 §7.2).
const HOST = /^[A-Za-z0-9\-._~!$&'()*+,;=:%[\]]+$/;
const ABSOLUTE_FORM = /^(?:https?|wss?):\/\/([^/?#]*)/i;

function refused(code: ProtocolErrorCode, message: string): HeadError {
  return { code, status: 400, message };
}

/**
 * The request's host: the `Host` value, or `''` when there is none and `required` is false
 * (HTTP/1.0); else why the request is refused (always 400).
 */
export function requestHost(head: RequestHead, required: boolean): string | HeadError {
  const headers = head.headers;
  const count = fieldCount(headers, 'host');
  if (count > 1) return refused('MALFORMED_HEAD', 'more than one Host header');
  const host = count === 0 ? '' : (headers.get('host') ?? '');
  if (host === '' && required) return refused('MISSING_HOST', 'missing Host header');
  if (host !== '' && !HOST.test(host)) return refused('MALFORMED_HEAD', 'malformed Host header');
  const target = head.target;
  if (target.startsWith('/')) return host;
  const absolute = ABSOLUTE_FORM.exec(target);
  if (absolute === null) return host; // not absolute-form: the target's own checks refuse it
  const authority = absolute[1] ?? '';
  if (!HOST.test(authority)) return refused('MALFORMED_HEAD', 'malformed authority in the request-target');
  if (!sameAsciiCase(authority, host))
    return refused('MALFORMED_HEAD', 'the request-target authority and the Host header disagree');
  return host;
}
