// Minimal `--name value` / `--name=value` argument parsing for the bin scripts.
export function parseArgs<T extends Record<string, string>>(argv: readonly string[], defaults: T): T {
  const out: Record<string, string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`--${name} needs a value`);
    out[name] = value;
  }
  return out as T;
}
