// The packages we publish: every packages/*/package.json without `"private": true`, dependencies
// first (the order to build, pack and publish in). A new package is public by leaving `private`
// out of its package.json; scripts/pack.mjs then checks it has what a published package needs.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * @param {string} root the repository root
 * @returns {{ name: string, version: string, dir: string, manifest: any }[]}
 */
export function publicPackages(root) {
  const base = path.join(root, 'packages');
  const found = [];
  for (const entry of readdirSync(base).sort()) {
    const file = path.join(base, entry, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    if (manifest.private === true) continue;
    found.push({ name: manifest.name, version: manifest.version, dir: path.join(base, entry), manifest });
  }
  // Dependencies first: repeatedly take the packages whose workspace dependencies are all taken.
  const names = new Set(found.map((p) => p.name));
  const ordered = [];
  const done = new Set();
  while (ordered.length < found.length) {
    const ready = found.filter(
      (p) =>
        !done.has(p.name) &&
        Object.keys({ ...p.manifest.dependencies, ...p.manifest.peerDependencies }).every(
          (d) => !names.has(d) || done.has(d),
        ),
    );
    if (ready.length === 0)
      throw new Error(
        `dependency cycle among ${found
          .filter((p) => !done.has(p.name))
          .map((p) => p.name)
          .join(', ')}`,
      );
    for (const p of ready) {
      ordered.push(p);
      done.add(p.name);
    }
  }
  return ordered;
}

/** The tarball name npm and pnpm give a package: `@ws/codec@0.1.0` → `ws-codec-0.1.0.tgz`. */
export const tarballName = (name, version) => `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
