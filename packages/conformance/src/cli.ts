// The command line: run the suite against a server (a URL, or a command that starts one) or a
// client (a command that runs the Autobahn client loop), print the summary, compare with the
// committed expected results; list the cases; regenerate the results page.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allCases, selectCases } from './cases/index.ts';
import { missingResult, type CaseDef, type CaseResult } from './case.ts';
import { runAgainstServer } from './client-runner.ts';
import { renderDocs } from './docs.ts';
import { DEFAULT_TIMING, type Timing } from './fuzz-connection.ts';
import { PeerProcess, fillTemplate, freePort, stopAllPeers } from './peer-process.ts';
import {
  compareWithExpected,
  countOutcomes,
  formatComparison,
  formatExpected,
  formatSummary,
  toExpected,
  type ExpectedFile,
  type RunReport,
  type TestedRole,
} from './report.ts';
import { FuzzingServer } from './server-runner.ts';

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO_DIR = path.resolve(PACKAGE_DIR, '../..');
export const EXPECTED_DIR = path.join(PACKAGE_DIR, 'expected');
export const REFERENCE_DIR = path.join(PACKAGE_DIR, 'reference');
export const DOCS_FILE = path.join(REPO_DIR, 'docs', 'conformance.md');
/** Runtimes the project has adapters for (or will): the results page lists them all. */
export const RUNTIMES = ['node', 'deno', 'bun'] as const;

const USAGE = `Usage: pnpm run conformance -- [command] [options]

Commands:
  (none)   run the suite against a server or a client (one target option is required)
  list     list the cases (honours --cases, --exclude, --quick)
  docs     regenerate docs/conformance.md from expected/*.json and reference/*.json

Targets:
  --url ws://127.0.0.1:P           test the server listening there
  --http2                          over HTTP/2 (RFC 8441): with --url/--server-cmd each case an extended CONNECT
                                   stream (wss:// for TLS, certificate not checked); with --client-cmd/--serve the
                                   fuzzing server speaks h2c and serves each WebSocket on such a stream
  --server-cmd "CMD {port}"        start a server ({port}: a free port), wait for a line containing
                                   "listening", test it, stop it (SIGTERM to its process group)
  --client-cmd "CMD {url} {agent}" start the fuzzing server, run the Autobahn client loop command
                                   ({url}, {agent}, {port}), judge the client, stop both
  --serve                          run the fuzzing server until interrupted or --timeout (for
                                   external clients)

Options:
  --cases 1.*,6.4      only cases matching these patterns (* wildcard; 6.4 = 6.4.*)
  --exclude 9.*        leave these cases out
  --quick              9.x with 1/16 of the sizes and 100 instead of 1000 round trips, 12/13 with 3 messages per case (CI)
  --autobahn-only      leave out our own cases (section 14, masking)
  --concurrency N      server tests: cases run at once (default 1; 9.x always runs alone)
  --time-scale X       multiply every wait and timeout (default 1, Autobahn's timings)
  --agent NAME         the agent name (default: the runtime, or "peer")
  --runtime NAME       compare with expected/NAME-<role>.json (when it exists)
  --expected FILE      compare with this expected-results file
  --update-expected    write the results as the expected file instead of comparing
  --save FILE          write the results in the expected-file form to FILE
  --json FILE          write the full results to FILE
  --port P             port for the fuzzing server (default: any free port)
  --startup S          seconds to wait for --server-cmd to print "listening" (default 180)
  --timeout S          overall bound in seconds (default 900)
  --verbose            print each case as it finishes, and the peer's output

Exit status: 0 when no case got worse than the expected file (without one: when no case FAILED),
1 otherwise, 2 for a usage error or a peer that could not be started.`;

interface Args {
  command: 'run' | 'list' | 'docs' | 'help';
  url?: string;
  serverCmd?: string;
  clientCmd?: string;
  serve: boolean;
  cases: string[];
  exclude: string[];
  quick: boolean;
  autobahnOnly: boolean;
  concurrency: number;
  timeScale: number;
  agent?: string;
  runtime?: string;
  expected?: string;
  updateExpected: boolean;
  save?: string;
  json?: string;
  port: number;
  startup: number;
  timeout: number;
  verbose: boolean;
  /** Test the server over HTTP/2 (RFC 8441): each case on an extended CONNECT stream. */
  http2: boolean;
  out?: string;
}

class UsageError extends Error {}

const FLAGS = new Set(['serve', 'quick', 'autobahn-only', 'update-expected', 'verbose', 'help', 'http2']);

export function parseArgs(argv: readonly string[]): Args {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue; // `pnpm run conformance -- …` may pass it on
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (FLAGS.has(name)) {
      flags.add(name);
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    values.set(name, value);
  }
  const known = new Set([
    'url',
    'server-cmd',
    'client-cmd',
    'cases',
    'exclude',
    'concurrency',
    'time-scale',
    'agent',
    'runtime',
    'expected',
    'save',
    'json',
    'port',
    'startup',
    'timeout',
    'out',
  ]);
  for (const name of values.keys()) if (!known.has(name)) throw new UsageError(`unknown option --${name}`);
  const number = (name: string, fallback: number, min: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min)
      throw new UsageError(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const list = (name: string): string[] =>
    (values.get(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const command =
    flags.has('help') || positional[0] === 'help'
      ? 'help'
      : positional[0] === 'list'
        ? 'list'
        : positional[0] === 'docs'
          ? 'docs'
          : 'run';
  if (positional.length > 0 && !['list', 'docs', 'help'].includes(positional[0]!))
    throw new UsageError(`unknown command ${JSON.stringify(positional[0])}`);
  const args: Args = {
    command,
    serve: flags.has('serve'),
    cases: list('cases'),
    exclude: list('exclude'),
    quick: flags.has('quick'),
    autobahnOnly: flags.has('autobahn-only'),
    concurrency: Math.floor(number('concurrency', 1, 1)),
    timeScale: number('time-scale', 1, 0.01),
    updateExpected: flags.has('update-expected'),
    port: Math.floor(number('port', 0, 0)),
    startup: number('startup', 180, 1),
    timeout: number('timeout', 900, 1),
    verbose: flags.has('verbose'),
    http2: flags.has('http2'),
  };
  for (const [key, name] of [
    ['url', 'url'],
    ['serverCmd', 'server-cmd'],
    ['clientCmd', 'client-cmd'],
    ['agent', 'agent'],
    ['runtime', 'runtime'],
    ['expected', 'expected'],
    ['save', 'save'],
    ['json', 'json'],
    ['out', 'out'],
  ] as const) {
    const v = values.get(name);
    if (v !== undefined) args[key] = v;
  }
  if (command === 'run') {
    const targets = [args.url, args.serverCmd, args.clientCmd, args.serve ? 'serve' : undefined].filter(Boolean);
    if (targets.length !== 1) throw new UsageError('give exactly one of --url, --server-cmd, --client-cmd, --serve');
    if (args.updateExpected && !args.runtime && !args.expected)
      throw new UsageError('--update-expected needs --runtime or --expected');
  }
  return args;
}

function selected(args: Args): CaseDef[] {
  const defs = selectCases(allCases({ quick: args.quick, autobahnOnly: args.autobahnOnly }), args.cases, args.exclude);
  if (defs.length === 0) throw new UsageError('no case matches --cases/--exclude');
  return defs;
}

/** Where the CLI writes (tests collect it instead). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}
const STDIO: Io = { out: (t) => void process.stdout.write(`${t}\n`), err: (t) => void process.stderr.write(`${t}\n`) };
let io: Io = STDIO;
const log = (text: string): void => io.out(text);

function progress(args: Args): (result: CaseResult) => void {
  return (r) => {
    if (args.verbose)
      log(`  ${r.id.padEnd(8)} ${r.outcome.padEnd(13)} ${r.durationMs} ms${r.outcome === 'OK' ? '' : `  ${r.reason}`}`);
  };
}

/** Run a server test: results, and a note on the peer (null when all went to plan). */
async function testServer(
  args: Args,
  defs: CaseDef[],
  timing: Timing,
): Promise<{ results: CaseResult[]; target: string; problem?: string }> {
  let peer: PeerProcess | undefined;
  let url = args.url;
  let target = args.url ?? '';
  if (args.serverCmd) {
    const port = args.port || (await freePort());
    const command = fillTemplate(args.serverCmd, { port });
    target = args.serverCmd;
    log(`starting server: ${command}`);
    peer = new PeerProcess(command, { echo: args.verbose });
    try {
      await peer.waitForLine('listening', args.startup * 1000);
    } catch (error) {
      await peer.stop();
      const output = peer.output();
      throw new PeerError(`${(error as Error).message}${output ? `\n--- its output ---\n${output}` : ''}`);
    }
    url = `ws://127.0.0.1:${port}`;
  }
  log(`testing the server at ${url} with ${defs.length} cases${args.quick ? ' (quick)' : ''}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const run = runAgainstServer({
      url: url!,
      cases: defs,
      concurrency: args.concurrency,
      timing,
      http2: args.http2,
      onResult: progress(args),
    });
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PeerError(`the run did not finish within ${args.timeout} s`)),
        args.timeout * 1000,
      );
    });
    const results = await Promise.race([run, bound]);
    const problem = peer && !peer.running ? `the server exited during the run (code ${await peer.exited})` : undefined;
    return { results, target, ...(problem ? { problem } : {}) };
  } finally {
    clearTimeout(timer);
    await peer?.stop();
  }
}

/** Run a client test through the fuzzing server. */
async function testClient(
  args: Args,
  defs: CaseDef[],
  timing: Timing,
  agent: string,
): Promise<{ results: CaseResult[]; target: string; problem?: string }> {
  const server = await FuzzingServer.start({
    cases: defs,
    port: args.port,
    timing,
    onResult: (_agent, r) => progress(args)(r),
    onNote: (t) => args.verbose && log(`  (${t})`),
    http2: args.http2,
  });
  const command = fillTemplate(args.clientCmd!, { url: server.url, agent, port: server.port });
  log(
    `fuzzing server on ${server.url} with ${defs.length} cases${args.quick ? ' (quick)' : ''}; starting client: ${command}`,
  );
  const peer = new PeerProcess(command, { echo: args.verbose });
  const deadline = Date.now() + args.timeout * 1000;
  const idleLimit = 120_000 * timing.scale;
  let problem: string | undefined;
  try {
    for (;;) {
      if (server.reported(agent)) break;
      if (!peer.running) {
        // Let a case still in flight finish (bounded by the case's own timers).
        const settle = Date.now() + 30_000;
        while (server.idleMs() === 0 && Date.now() < settle) await server.changed(500);
        if (!server.reported(agent))
          problem = `the client exited (code ${await peer.exited}) without asking for /updateReports`;
        break;
      }
      if (Date.now() > deadline) {
        problem = `the client did not finish within ${args.timeout} s`;
        break;
      }
      if (server.idleMs() > idleLimit) {
        problem = `the client opened no connection for ${Math.round(idleLimit / 1000)} s`;
        break;
      }
      await Promise.race([server.changed(1000), peer.exited]);
    }
  } finally {
    await peer.stop();
    await server.close();
  }
  let byCase = server.results(agent);
  if (byCase.size === 0) {
    const others = server.agents();
    if (others.length === 1) {
      byCase = server.results(others[0]!);
      problem = `${problem ? `${problem}; ` : ''}the client reported as agent "${others[0]}", not "${agent}"`;
    }
  }
  if (problem && peer.output()) problem += `\n--- client output (last lines) ---\n${peer.output(20)}`;
  const results = defs.map((d) => byCase.get(d.id) ?? missingResult(d, 'The client never ran this case.'));
  return { results, target: args.clientCmd!, ...(problem ? { problem } : {}) };
}

class PeerError extends Error {}

async function serveForever(args: Args, defs: CaseDef[], timing: Timing): Promise<number> {
  const server = await FuzzingServer.start({
    cases: defs,
    port: args.port,
    timing,
    onResult: (agent, r) => args.verbose && log(`  [${agent}] ${r.id.padEnd(8)} ${r.outcome}`),
    http2: args.http2,
  });
  log(
    `fuzzing server listening on ${server.url} (${defs.length} cases); Ctrl-C stops it, or --timeout (${args.timeout} s)`,
  );
  const printed = new Set<string>();
  const deadline = Date.now() + args.timeout * 1000;
  while (Date.now() < deadline) {
    await server.changed(Math.min(60_000, Math.max(1, deadline - Date.now())));
    for (const agent of server.agents()) {
      if (server.reported(agent) && !printed.has(agent)) {
        printed.add(agent);
        const byCase = server.results(agent);
        log(
          `\n[${agent}]\n${formatSummary(defs.map((d) => byCase.get(d.id) ?? missingResult(d, 'The client never ran this case.')))}`,
        );
      }
    }
  }
  await server.close();
  log(`stopped after ${args.timeout} s`);
  return 0;
}

function readExpected(file: string): ExpectedFile {
  return JSON.parse(readFileSync(file, 'utf8')) as ExpectedFile;
}

function writeText(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

const writeJson = (file: string, value: unknown): void => writeText(file, `${JSON.stringify(value, null, 2)}\n`);

export async function main(argv: readonly string[], output: Io = STDIO): Promise<number> {
  io = output;
  let args: Args;
  try {
    args = parseArgs(argv);
    if (args.command === 'help') {
      log(USAGE);
      return 0;
    }
    if (args.command === 'docs') {
      const out = args.out ?? DOCS_FILE;
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, renderDocs({ expectedDir: EXPECTED_DIR, referenceDir: REFERENCE_DIR, runtimes: RUNTIMES }));
      log(`wrote ${path.relative(process.cwd(), out) || out}`);
      return 0;
    }
    const defs = selected(args);
    if (args.command === 'list') {
      for (const d of defs) log(`${d.id.padEnd(8)} ${d.description}`);
      log(`${defs.length} cases`);
      return 0;
    }
    const timing: Timing = { ...DEFAULT_TIMING, scale: args.timeScale };
    if (args.serve) return await serveForever(args, defs, timing);

    const role: TestedRole = args.clientCmd ? 'client' : 'server';
    const agent = args.agent ?? args.runtime ?? 'peer';
    const startedAt = new Date();
    const { results, target, problem } =
      role === 'server' ? await testServer(args, defs, timing) : await testClient(args, defs, timing, agent);
    const report: RunReport = {
      tool: '@ws/conformance',
      formatVersion: 1,
      role,
      agent,
      target,
      quick: args.quick,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      counts: countOutcomes(results.map((r) => r.outcome)),
      cases: results,
    };
    log('');
    log(formatSummary(results));
    log('');
    log(`${role} ${agent}: ${results.length} cases in ${(report.durationMs / 1000).toFixed(1)} s`);
    if (problem) {
      log(`note: ${problem}`);
      report.problem = problem;
    }
    if (args.save) writeText(args.save, formatExpected(toExpected(report, args.runtime ?? agent)));

    const expectedFile =
      args.expected ?? (args.runtime ? path.join(EXPECTED_DIR, `${args.runtime}-${role}.json`) : undefined);
    let code: number;
    if (args.updateExpected) {
      writeText(expectedFile!, formatExpected(toExpected(report, args.runtime ?? agent)));
      log(`wrote ${path.relative(process.cwd(), expectedFile!)}`);
      code = 0;
    } else if (expectedFile && existsSync(expectedFile)) {
      const comparison = compareWithExpected(results, readExpected(expectedFile));
      log(formatComparison(comparison, path.relative(process.cwd(), expectedFile)));
      report.comparison = {
        file: path.relative(REPO_DIR, expectedFile),
        worse: comparison.worse.map((w) => w.id),
        better: comparison.better.map((b) => b.id),
      };
      code = comparison.worse.length > 0 ? 1 : 0;
    } else {
      if (expectedFile) log(`no expected file at ${path.relative(process.cwd(), expectedFile)}: no case may fail`);
      code = report.counts.FAILED > 0 ? 1 : 0;
    }
    if (args.json) writeJson(args.json, report);
    return code;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof PeerError) {
      io.err(error.message);
      return 2;
    }
    throw error;
  } finally {
    io = STDIO;
  }
}

/** Entry point for bin/conformance.mjs. */
export async function cli(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\ninterrupted (${signal}): stopping peers\n`);
      void stopAllPeers().finally(() => process.exit(130));
      setTimeout(() => process.exit(130), 5000).unref();
    });
  }
  const code = await main(process.argv.slice(2));
  await stopAllPeers();
  process.exit(code);
}
