// @ts-self-types="./self-signed-cert.d.mts"
// A throwaway self-signed certificate for `localhost`, 127.0.0.1 and ::1, made with the openssl CLI
// (EC P-256, PEM): the TLS tests on every runtime and `echo.mjs --http2` use it. Plain JS on node:*
// only, so vitest, `deno test`, `bun test` and the bins (which run unbuilt) import the same file.
//
// The extensions are the ones every TLS stack here accepts for a certificate trusted as itself
// (`ca: cert`): rustls (Deno) refuses a CA certificate used as a server's, which openssl's default
// `req -x509` makes, so it is marked as a server's leaf (CA:FALSE, serverAuth, digitalSignature).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Whether the openssl CLI runs on this machine. */
export function hasOpenssl() {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh key and certificate (PEM text), valid for `days` (default 2). Throws when openssl is
 * missing or fails (check {@link hasOpenssl} first to skip or fall back).
 */
export function selfSignedCert({ days = 2 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-self-signed-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        String(days),
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-addext',
        'basicConstraints=critical,CA:FALSE',
        '-addext',
        'extendedKeyUsage=serverAuth',
        '-addext',
        'keyUsage=critical,digitalSignature',
      ],
      { stdio: 'ignore', timeout: 20_000 },
    );
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
