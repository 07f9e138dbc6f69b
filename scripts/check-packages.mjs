#!/usr/bin/env node
// The `packages` stage of `npm test`: what a user gets from npm, checked from the tarballs.
//
// 1. `pnpm run pack` (scripts/pack.mjs): build every public package, one .tgz each in artifacts/.
//    Then the size budgets of .size-limit.js (size-limit, esbuild, gzip) on the dist/ just built.
//    And `deno publish --dry-run` of the JSR packages (scripts/jsr.mjs).
// 2. Each tarball through publint (no errors or warnings) and @arethetypeswrong/cli (no problem
//    but those in ACCEPTED below, each with its reason).
// 3. A scratch project in the OS temp dir (nothing of the workspace on its module path: checked),
//    `npm install` of every tarball (their third-party dependencies from the npm registry), and
//    there, each a test: Node ESM and CommonJS consumers, a TypeScript consumer compiled with
//    moduleResolution node16 (ESM and CJS files) and bundler and then run, a Bun program on
//    @ws/bun, a Deno program on npm:@ws/deno (the workspace's bun and deno binaries), and every
//    entry point of every package loaded in its runtime. Each consumer starts a server on
//    127.0.0.1 (port 0), connects, exchanges a message and closes cleanly (pack-consumers/).
//
//   node scripts/check-packages.mjs [--no-build] [--keep]   (--keep leaves the scratch project)
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './pnpm.mjs';
import { packAll } from './pack.mjs';
import { publicPackages } from './lib/public-packages.mjs';
import { jsrPackages, stageJsr } from './jsr.mjs';

const bin = (name) => path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);
const CONSUMERS = path.join(ROOT, 'scripts', 'pack-consumers');
/** What the scratch project installs from the registry besides the tarballs (the TS consumer's). */
const REGISTRY_DEV = ['typescript@5.9.3', '@types/node@20.19.43'];

/**
 * attw problems we accept, each with its reason (anything else fails the stage).
 * `kind` and `resolutionKind` as attw's JSON names them.
 */
export const ACCEPTED = [
  {
    package: '@ws/bun',
    kind: 'CJSResolvesToESM',
    resolutionKind: 'node16-cjs',
    reason:
      'ESM only, for Bun, which loads ESM from require() too; the package does not run on Node, so no CommonJS build',
  },
  {
    package: '@ws/deno',
    kind: 'CJSResolvesToESM',
    resolutionKind: 'node16-cjs',
    reason:
      'ESM only, for Deno (npm: specifiers), which has no require() of packages; the package does not run on Node',
  },
];

/** Run a command, capture its output, kill its process group after `timeout` ms. */
function capture(command, args, { cwd = ROOT, env, timeout = 120_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const kill = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        /* gone */
      }
    };
    const timer = setTimeout(() => {
      out += `\n[killed after ${timeout / 1000} s]`;
      kill('SIGKILL');
    }, timeout);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, out: `${out}\nfailed to start ${command}: ${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      kill('SIGKILL'); // anything it left behind in its group
      resolve({ code: code ?? (signal ? 1 : 0), out });
    });
  });
}

const indent = (text) =>
  text
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

export async function checkPackages({ build = true, keep = false, log = console.log } = {}) {
  const results = [];
  /** Run one check; its line is printed when it ends (checks may run side by side). */
  const test = async (name, fn) => {
    const started = performance.now();
    let ok = false;
    let detail = '';
    try {
      const r = await fn();
      ok = r.ok;
      detail = r.detail ?? '';
    } catch (error) {
      detail = String(error?.stack ?? error);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    log(
      `${ok ? '✓' : '✗'} ${name} (${seconds} s)${detail && (!ok || process.env.WS_PACK_VERBOSE) ? `\n${indent(detail)}` : ''}`,
    );
    results.push({ name, ok });
    return ok;
  };

  // 1. Pack.
  const tarballs = await packAll({ build, log });
  const packages = publicPackages(ROOT);
  const byName = new Map(packages.map((p, i) => [p.name, { ...p, tarball: tarballs[i] }]));
  for (const t of tarballs) log(`${path.basename(t)}: ${(readFileSync(t).length / 1024).toFixed(1)} KiB`);

  // Size budgets (.size-limit.js) on the dist/ just built: each entry point a test.
  {
    const { code, out } = await capture(bin('size-limit'), ['--json']);
    let checks = [];
    try {
      checks = JSON.parse(out.slice(out.search(/^\[\s*$/m))); // the report; esbuild's warnings come before it
    } catch {
      checks = [];
    }
    if (checks.length === 0)
      await test('size-limit', async () => ({
        ok: false,
        detail: `no size-limit report (exit code ${code}):\n${out}`,
      }));
    for (const c of checks) {
      const kib = (n) => `${(n / 1024).toFixed(2)} KiB`;
      await test(`size ${c.name}: ${kib(c.size)} of ${kib(c.sizeLimit)}`, async () => ({
        ok: c.passed === true && c.size <= c.sizeLimit,
        detail: JSON.stringify(c),
      }));
    }
  }

  // 2. publint and attw, per tarball: side by side with the scratch install below (attw spends
  //    its time loading TypeScript, npm install waits on the registry).
  const lints = (async () => {
    for (const p of byName.values()) {
      await Promise.all([
        test(`publint ${p.name}`, async () => {
          const { code, out } = await capture(bin('publint'), ['run', p.tarball, '--level', 'suggestion']);
          const warned = /Warnings?:/.test(out);
          return { ok: code === 0 && !warned && /All good|Suggestions?:/.test(out), detail: out };
        }),
        test(`attw ${p.name}`, async () => {
          const { out } = await capture(bin('attw'), [p.tarball, '--format', 'json', '--no-definitely-typed']);
          const json = JSON.parse(out.slice(out.indexOf('{')));
          const problems = Object.values(json.problems ?? {}).flat();
          const unaccepted = problems.filter(
            (q) =>
              !ACCEPTED.some((a) => a.package === p.name && a.kind === q.kind && a.resolutionKind === q.resolutionKind),
          );
          const accepted = problems.length - unaccepted.length;
          return {
            ok: unaccepted.length === 0,
            detail: `${accepted} accepted; not accepted: ${JSON.stringify(unaccepted)}`,
          };
        }),
      ]);
    }
  })();

  // JSR: `deno publish --dry-run` of the JSR workspace (scripts/jsr.mjs), slow types included.
  const jsr = test(`deno publish --dry-run (JSR: ${jsrPackages()
    .map((p) => p.name)
    .join(', ')})`, async () => {
    const stage = stageJsr();
    try {
      const r = await capture(bin('deno'), ['publish', '--dry-run', '--allow-dirty'], {
        cwd: stage,
        env: { ...process.env, NO_COLOR: '1' },
        timeout: 300_000,
      });
      return {
        ok: r.code === 0 && /Dry run complete/.test(r.out),
        detail: r.out
          .split('\n')
          .filter((l) => !/^\s*(Download|file:)/.test(l))
          .join('\n'),
      };
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });

  // 3. A scratch project outside the workspace.
  const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'ws-pack-consumers-')));
  try {
    const env = {
      ...process.env,
      NODE_PATH: '',
      NO_COLOR: '1',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_update_notifier: 'false',
    };
    for (const key of Object.keys(env)) if (key.startsWith('npm_package_') || key === 'INIT_CWD') delete env[key];
    cpSync(CONSUMERS, scratch, { recursive: true });
    writeFileSync(
      path.join(scratch, 'package.json'),
      JSON.stringify({ name: 'ws-pack-consumer', private: true, type: 'module' }, null, 2),
    );

    const installed = await test('npm install of the tarballs in a scratch project', async () => {
      // Nothing of the workspace may be found by walking up from the scratch directory.
      for (let dir = scratch; ; dir = path.dirname(dir)) {
        if (dir !== scratch && existsSync(path.join(dir, 'node_modules')))
          return { ok: false, detail: `${dir}/node_modules exists above the scratch project` };
        if (path.dirname(dir) === dir) break;
      }
      if (scratch.startsWith(ROOT)) return { ok: false, detail: 'scratch project inside the workspace' };
      const { code, out } = await capture(
        'npm',
        ['install', '--no-package-lock', '--loglevel=error', ...tarballs, ...REGISTRY_DEV],
        { cwd: scratch, env, timeout: 180_000 },
      );
      return { ok: code === 0, detail: out };
    });
    if (!installed) throw new Error('npm install failed: no consumer can run');
    await lints;
    await jsr;

    const node = (file, args = []) => capture(process.execPath, [file, ...args], { cwd: scratch, env });
    const ran = (r, expect) => ({ ok: r.code === 0 && expect.test(r.out), detail: r.out });

    await test('node ESM consumer (@ws/node, @ws/codec, /pako, /testing, @ws/zlib)', async () =>
      ran(await node('node-esm.mjs'), /node ESM \(@ws\/node\): ok/));
    await test('node CommonJS consumer (require @ws/node, @ws/codec, /pako)', async () =>
      ran(await node('node-cjs.cjs'), /node CJS \(@ws\/node\): ok/));
    await Promise.all(
      ['node16', 'bundler'].map((mode) =>
        test(`TypeScript consumer, moduleResolution ${mode}: compiles and runs`, async () => {
          const tsc = await capture(
            process.execPath,
            [path.join(scratch, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${mode}.json`],
            { cwd: scratch, env },
          );
          if (tsc.code !== 0) return { ok: false, detail: `tsc failed:\n${tsc.out}` };
          const esm = await node(path.join(`out-${mode}`, 'consumer.js'), [mode]);
          if (mode === 'bundler') return ran(esm, /TypeScript ESM \(bundler\): ok/);
          const cjs = await node(path.join('out-node16', 'consumer-cjs.cjs'));
          return {
            ok: esm.code === 0 && cjs.code === 0 && /ok/.test(esm.out) && /TypeScript CJS \(node16\): ok/.test(cjs.out),
            detail: `${esm.out}\n${cjs.out}`,
          };
        }),
      ),
    );
    await test('bun consumer (@ws/bun)', async () =>
      ran(await capture(bin('bun'), ['bun.ts'], { cwd: scratch, env }), /bun \(@ws\/bun\): ok/));
    await test('deno consumer (npm:@ws/deno)', async () =>
      ran(
        await capture(
          bin('deno'),
          [
            'run',
            '--node-modules-dir=manual',
            '--no-lock',
            '--allow-net=127.0.0.1',
            '--allow-env',
            '--allow-read',
            'deno.ts',
          ],
          { cwd: scratch, env },
        ),
        /deno \(npm:@ws\/deno\): ok/,
      ));

    // Every entry point of every package loads in its runtime (a package added later is covered
    // by this without a consumer of its own).
    for (const p of byName.values()) {
      const entries = Object.entries(p.manifest.publishConfig?.exports ?? p.manifest.exports).filter(
        ([k]) => !k.endsWith('package.json'),
      );
      const specifiers = entries.map(([k]) => (k === '.' ? p.name : `${p.name}/${k.slice(2)}`));
      const runtime = p.manifest.engines?.node ? 'node' : p.manifest.engines?.bun ? 'bun' : 'deno';
      await test(`${p.name}: every entry point loads (${runtime}${runtime === 'node' ? ', import and require' : ''})`, async () => {
        const imports = specifiers
          .map(
            (s) =>
              `${JSON.stringify(s)}: Object.keys(await import(${JSON.stringify(runtime === 'deno' ? `npm:${s}` : s)})).length`,
          )
          .join(', ');
        const file = `load-${p.name.replace(/\W/g, '-')}.mjs`;
        let code = `const counts = { ${imports} };\n`;
        if (runtime === 'node') {
          code += `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n`;
          const requirable = entries
            .filter(([, v]) => JSON.stringify(v).includes('"require"'))
            .map(([k]) => (k === '.' ? p.name : `${p.name}/${k.slice(2)}`));
          code += `for (const s of ${JSON.stringify(requirable)}) counts[s + ' (require)'] = Object.keys(require(s)).length;\n`;
        }
        code += `if (Object.values(counts).some((n) => n === 0)) throw new Error('an entry point exports nothing: ' + JSON.stringify(counts));\nconsole.log('loaded', JSON.stringify(counts));\n`;
        writeFileSync(path.join(scratch, file), code);
        const args =
          runtime === 'deno'
            ? ['run', '--node-modules-dir=manual', '--no-lock', '--allow-read', '--allow-env', file]
            : [file];
        const r = await capture(runtime === 'node' ? process.execPath : bin(runtime), args, { cwd: scratch, env });
        return ran(r, /^loaded /m);
      });
    }
  } finally {
    await lints.catch(() => {});
    await jsr.catch(() => {});
    if (keep) log(`scratch project kept: ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }

  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed, skipped: 0 };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  let counts;
  try {
    counts = await checkPackages({
      build: !process.argv.includes('--no-build'),
      keep: process.argv.includes('--keep'),
    });
  } catch (error) {
    console.error(error);
    counts = { passed: 0, failed: 1, skipped: 0 };
  }
  console.log(
    `packages: ${counts.passed} passed, ${counts.failed} failed (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  process.exitCode = counts.failed > 0 ? 1 : 0;
}
