// The case registry: every case in Autobahn's order, the section titles, and selection by pattern.
// To add a section: write `section-N-….ts` exporting its CaseDef list (a case negotiates
// permessage-deflate with `deflate`, see section-12-13-deflate.ts), and append it in `allCases`.
import type { CaseDef } from '../case.ts';
import { section1 } from './section-1-framing.ts';
import { section2 } from './section-2-ping-pong.ts';
import { section3 } from './section-3-reserved-bits.ts';
import { section4 } from './section-4-opcodes.ts';
import { section5 } from './section-5-fragmentation.ts';
import { SECTION6_TITLES, section6 } from './section-6-utf8.ts';
import { section7 } from './section-7-close.ts';
import { section9 } from './section-9-limits.ts';
import { section10 } from './section-10-misc.ts';
import { DEFLATE_SUBSECTION_TITLES, sectionDeflate } from './section-12-13-deflate.ts';
import { section14 } from './section-14-masking.ts';

export interface RegistryOptions {
  /** Cap 9.x sizes and counts (CI). */
  quick?: boolean;
  /** Leave out our own cases that Autobahn does not have (section 14). */
  autobahnOnly?: boolean;
}

/** Sections that are ours, not Autobahn's. */
export const EXTRA_SECTIONS: readonly string[] = ['14'];

export const SECTION_TITLES: Readonly<Record<string, string>> = {
  '1': 'Framing',
  '2': 'Pings/Pongs',
  '3': 'Reserved Bits',
  '4': 'Opcodes',
  '5': 'Fragmentation',
  '6': 'UTF-8 Handling',
  '7': 'Close Handling',
  '9': 'Limits/Performance',
  '10': 'Misc',
  '12': 'WebSocket Compression (different payloads)',
  '13': 'WebSocket Compression (different parameters)',
  '14': 'Masking (beyond Autobahn)',
};

export const SUBSECTION_TITLES: Readonly<Record<string, string>> = {
  '1.1': 'Text Messages',
  '1.2': 'Binary Messages',
  '4.1': 'Non-control Opcodes',
  '4.2': 'Control Opcodes',
  ...SECTION6_TITLES,
  '7.1': 'Basic close behavior (fuzzer initiated)',
  '7.3': 'Close frame structure: payload length (fuzzer initiated)',
  '7.5': 'Close frame structure: payload value (fuzzer initiated)',
  '7.7': 'Close frame structure: valid close codes (fuzzer initiated)',
  '7.9': 'Close frame structure: invalid close codes (fuzzer initiated)',
  '7.13': 'Informational close information (fuzzer initiated)',
  '9.1': 'Text Message (increasing size)',
  '9.2': 'Binary Message (increasing size)',
  '9.3': 'Fragmented Text Message (fixed size, increasing fragment size)',
  '9.4': 'Fragmented Binary Message (fixed size, increasing fragment size)',
  '9.5': 'Text Message (fixed size, increasing chop size)',
  '9.6': 'Binary Text Message (fixed size, increasing chop size)',
  '9.7': 'Text Message Roundtrip Time (fixed number, increasing size)',
  '9.8': 'Binary Message Roundtrip Time (fixed number, increasing size)',
  '10.1': 'Auto-Fragmentation',
  ...DEFLATE_SUBSECTION_TITLES,
  '14.1': 'Frames masked the wrong way',
};

export function allCases(options: RegistryOptions = {}): CaseDef[] {
  const defs = [
    ...section1,
    ...section2,
    ...section3,
    ...section4,
    ...section5,
    ...section6,
    ...section7,
    ...section9({ quick: options.quick ?? false }),
    ...section10,
    ...sectionDeflate({ quick: options.quick ?? false }),
  ];
  if (!options.autobahnOnly) defs.push(...section14);
  return defs;
}

export const sectionOf = (id: string): string => id.split('.')[0]!;

/** Order ids numerically, part by part. */
export function compareIds(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Does `id` match `pattern`? `*` matches anything (`6.4.*`, `9.*`); a pattern without `*` matches
 * the id itself and everything under it (`6.4` matches `6.4.1`…, `7` matches all of section 7).
 */
export function matchesPattern(id: string, pattern: string): boolean {
  const p = pattern.trim();
  if (!p) return false;
  if (p.includes('*')) {
    const re = new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    return re.test(id);
  }
  return id === p || id.startsWith(`${p}.`);
}

/** The cases matching any `include` pattern (all when none) and no `exclude` pattern. */
export function selectCases(
  defs: readonly CaseDef[],
  include: readonly string[] = [],
  exclude: readonly string[] = [],
): CaseDef[] {
  return defs.filter(
    (d) =>
      (include.length === 0 || include.some((p) => matchesPattern(d.id, p))) &&
      !exclude.some((p) => matchesPattern(d.id, p)),
  );
}
