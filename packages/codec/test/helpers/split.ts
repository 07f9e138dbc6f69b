// Ways to cut a byte string into chunks, for "same result however the bytes arrive" tests:
// every two-way split (including the empty first and last pieces) and one byte at a time.

export function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  const single: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) single.push(bytes.subarray(i, i + 1));
  out.push(single);
  return out;
}
