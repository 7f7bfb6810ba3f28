/** Small readers of qemu argv arrays for the spec/compile tests. */

/** Every value given to `option` in `argv`, in order. */
export function valuesOf(argv: readonly string[], option: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === option && i + 1 < argv.length) out.push(argv[i + 1]);
  });
  return out;
}

/** True when `seq` appears contiguously in `argv`. */
export function hasSequence(argv: readonly string[], seq: readonly string[]): boolean {
  for (let i = 0; i + seq.length <= argv.length; i++) {
    if (seq.every((s, j) => argv[i + j] === s)) return true;
  }
  return false;
}
