/**
 * `qemu-img compare`: are two images the same to the guest?
 * @module
 */
import type { ImageFormat } from "./formats.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";
import { runQemuImg } from "./run.ts";

/** Options of {@link compare}. */
export interface CompareOptions {
  /** Format of the first image. Detected when omitted. */
  readonly formatA?: ImageFormat;
  /** Format of the second image. Detected when omitted. */
  readonly formatB?: ImageFormat;
  /** Strict: different virtual sizes or allocation (data vs zeros) also count as different. @default false */
  readonly strict?: boolean;
  /** Read images a VM holds (`-U`). @default false */
  readonly shareLock?: boolean;
}

/** What {@link compare} found. */
export interface CompareResult {
  /** Same guest-visible content. */
  readonly identical: boolean;
  /** qemu-img's message ("Images are identical.", "Content mismatch at offset 0!"). */
  readonly message: string;
  /** First differing guest offset, when qemu-img names one. */
  readonly mismatchOffset?: number;
}

/**
 * Compares guest-visible content; images of different formats and sizes can be compared
 * (beyond the smaller one's end, the larger must read as zeros unless `strict`).
 *
 * @example
 * ```ts
 * const { identical, message } = await image.compare("a.qcow2", "a.vdi", { formatA: "qcow2", formatB: "vdi" });
 * ```
 */
export async function compare(a: string, b: string, options: CompareOptions = {}): Promise<CompareResult> {
  const absA = absPath(a);
  const absB = absPath(b);
  await Promise.all([statImage(absA, "first image"), statImage(absB, "second image")]);
  const [fa, fb] = await Promise.all([formatOf(absA, options.formatA), formatOf(absB, options.formatB)]);
  const args = ["compare", "-f", fa, "-F", fb];
  if (options.strict) args.push("-s");
  if (options.shareLock) args.push("-U");
  args.push(absA, absB);
  const r = await runQemuImg(args, { op: "compare", path: `${a} / ${b}`, okExitCodes: [1] });
  const message = (r.stdout.trim() || r.stderr.trim()).split("\n").pop() ?? "";
  const m = /offset (\d+)/.exec(message);
  return { identical: r.exitCode === 0, message, ...(m ? { mismatchOffset: Number(m[1]!) } : {}) };
}
