/**
 * Counts of what the cases reached, merged across workers and printed in the run's summary.
 */
/** What the cases reached: protocol-error codes, states, targets. Shows the fuzzer gets deep. */
export class Stats {
  readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  merge(other: Record<string, number>): void {
    for (const [k, v] of Object.entries(other)) this.counts.set(k, (this.counts.get(k) ?? 0) + v);
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }
}
