/** Reads QEMU's `screendump` PPM (P6) files for the installer test. */
import { readFile } from "node:fs/promises";

export interface Screen {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

export async function readPpm(path: string): Promise<Screen> {
  const b = await readFile(path);
  // Header: "P6" whitespace width whitespace height whitespace maxval, then one whitespace byte.
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(b[i]!))) i++;
    let tok = "";
    while (!/\s/.test(String.fromCharCode(b[i]!))) tok += String.fromCharCode(b[i++]!);
    fields.push(tok);
  }
  i++;
  if (fields[0] !== "P6" || fields[3] !== "255") throw new Error(`not an 8-bit P6 PPM: ${fields.join(" ")}`);
  const width = Number(fields[1]);
  const height = Number(fields[2]);
  return { width, height, rgb: new Uint8Array(b.subarray(i, i + width * height * 3)) };
}

/** Number of distinct colours and the share of non-black pixels. */
export function screenStats(s: Screen): { colours: number; litShare: number } {
  const colours = new Set<number>();
  let lit = 0;
  for (let p = 0; p < s.rgb.length; p += 3) {
    const c = (s.rgb[p]! << 16) | (s.rgb[p + 1]! << 8) | s.rgb[p + 2]!;
    colours.add(c);
    if (c !== 0) lit++;
  }
  return { colours: colours.size, litShare: lit / (s.rgb.length / 3) };
}

/** Share of pixels that differ between two screens of any size (size change counts as all). */
export function screenDiff(a: Screen, b: Screen): number {
  if (a.width !== b.width || a.height !== b.height) return 1;
  let diff = 0;
  for (let p = 0; p < a.rgb.length; p += 3) {
    if (a.rgb[p] !== b.rgb[p] || a.rgb[p + 1] !== b.rgb[p + 1] || a.rgb[p + 2] !== b.rgb[p + 2]) diff++;
  }
  return diff / (a.rgb.length / 3);
}
