// docs/http.md's snippets, run as written on Deno (import pointed at this package's source, port 0),
// checked by the shared scenarios (test/shared/http-doc.ts) with Deno's fetch and @ws/deno's connect.
import { connect, type WebSocketServer } from '../src/index.ts';
import { checkServing, checkUpgradesInFetch, runnable, snippets } from '../../../test/shared/http-doc.ts';

const [serving, upgrades] = snippets(await Deno.readTextFile(new URL('../../../docs/http.md', import.meta.url)));

async function withSnippet(snippet: string, check: (port: number) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: 'http-doc-' });
  try {
    const file = `${dir}/snippet.ts`;
    await Deno.writeTextFile(file, runnable(snippet, new URL('../src/index.ts', import.meta.url).href));
    const { server } = (await import(`file://${file}`)) as { server: WebSocketServer };
    try {
      await check(server.address()!.port);
    } finally {
      await server.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test('docs/http.md: fetch serves /health, the page and 404s beside an echoing WebSocket', () =>
  withSnippet(serving!, (port) => checkServing(port, connect)));
Deno.test('docs/http.md: fetchUpgrades accepts with data and headers, or refuses with a Response', () =>
  withSnippet(upgrades!, (port) => checkUpgradesInFetch(port, connect)));
