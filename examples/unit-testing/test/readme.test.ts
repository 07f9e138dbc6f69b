// The README's snippets are copied from chat.ts and test/chat.test.ts (which the other test runs):
// each must still appear in one of them, line for line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (name: string): string => readFileSync(new URL(`../${name}`, import.meta.url), 'utf8');

describe('examples/unit-testing/README.md', () => {
  const readme = read('README.md');
  const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const sources = read('chat.ts') + '\n' + read('test/chat.test.ts');

  it('has snippets', () => expect(snippets.length).toBeGreaterThanOrEqual(3));
  it.each(snippets.map((s, i) => [i, s] as const))('snippet %i is in the tested files', (_i, snippet) => {
    expect(sources).toContain(snippet);
  });
});
