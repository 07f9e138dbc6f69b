// Small assertions that throw plain Errors, so any runner (deno test, bun test, vitest) reports
// them: the runner-agnostic scenarios in this folder and @ws/deno's own tests use them. No
// `node:assert` (type-checking a `node:` import needs @types/node resolved by Deno) and no
// `jsr:@std/assert` (the tests must run offline from the workspace alone).

/**
 * A runner that counts assertions registers its counter here (vitest: test/vitest-setup.ts), so
 * that a vitest test made of these checks counts them (vitest fails a test that asserts nothing).
 */
const runner = globalThis as { __wsCountAssertion?: () => void };

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  runner.__wsCountAssertion?.();
  if (!condition) throw new Error(message);
}

function show(value: unknown): string {
  if (value instanceof Uint8Array)
    return `Uint8Array(${value.length}) [${[...value.subarray(0, 16)].join(', ')}${value.length > 16 ? ', …' : ''}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (
    typeof a === 'object' &&
    typeof b === 'object' &&
    a !== null &&
    b !== null &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}

export function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  runner.__wsCountAssertion?.();
  if (!deepEqual(actual, expected))
    throw new Error(`${message ? `${message}: ` : ''}expected ${show(expected)}, got ${show(actual)}`);
}

export function assertMatch(actual: string, pattern: RegExp): void {
  runner.__wsCountAssertion?.();
  if (!pattern.test(actual)) throw new Error(`expected ${JSON.stringify(actual)} to match ${pattern}`);
}

export async function assertRejects(
  promise: Promise<unknown>,
  check?: (error: unknown) => boolean,
  message = 'expected a rejection',
): Promise<unknown> {
  runner.__wsCountAssertion?.();
  try {
    await promise;
  } catch (error) {
    if (check !== undefined && !check(error)) throw new Error(`${message}: unexpected error ${String(error)}`);
    return error;
  }
  throw new Error(message);
}
