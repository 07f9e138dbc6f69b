// docs/http.md's snippets, run as written on Node (import pointed at this package's source, port 0).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, it } from 'vitest';
import { connect, type WebSocketServer } from '../src/index.ts';
import { checkServing, checkUpgradesInFetch, runnable, snippets } from '../../../test/shared/http-doc.ts';
import { within } from './helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'http-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const [serving, upgrades] = snippets(readFileSync(path.join(here, '../../../docs/http.md'), 'utf8'));

async function load(snippet: string, name: string): Promise<WebSocketServer> {
  const file = path.join(dir, name);
  writeFileSync(file, runnable(snippet, path.join(here, '../src/index.ts')));
  return ((await import(file)) as { server: WebSocketServer }).server;
}

it('docs/http.md: fetch serves /health, the page and 404s beside an echoing WebSocket', async () => {
  const server = await load(serving!, 'serving.ts');
  try {
    await checkServing(server.address()!.port, connect);
  } finally {
    await within(server.close(), 10_000, 'server.close');
  }
});

it('docs/http.md: fetchUpgrades accepts with data and headers, or refuses with a Response', async () => {
  const server = await load(upgrades!, 'upgrades.ts');
  try {
    await checkUpgradesInFetch(server.address()!.port, connect);
  } finally {
    await within(server.close(), 10_000, 'server.close');
  }
});
