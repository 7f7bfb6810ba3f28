/**
 * `qemu-img check`, typed.
 * @module
 */
import { walkChain } from "./chain.ts";
import { ImageError } from "./errors.ts";
import { BACKING_FORMATS, type ImageFormat } from "./formats.ts";
import { intOf, parseImageJson, type ImageJsonObject } from "./json.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";
import { runQemuImg } from "./run.ts";

/** Options of {@link check}. */
export interface CheckOptions {
  /** The image's format. Detected when omitted. */
  readonly format?: ImageFormat;
  /** Repair: `"leaks"` frees leaked clusters (safe); `"all"` also fixes corruptions (may lose data). */
  readonly repair?: "leaks" | "all";
  /** Check an image a VM holds (`-U`, results may be wrong while it writes). @default false */
  readonly shareLock?: boolean;
}

/** What {@link check} found. */
export interface CheckResult {
  /** No leaks, no corruptions, no check errors (after repairs, if asked). */
  readonly ok: boolean;
  /** Clusters allocated but unused: wasted space, harmless. */
  readonly leaks: number;
  /** Metadata errors: data may be wrong. */
  readonly corruptions: number;
  /** Internal errors while checking (I/O errors): the result is incomplete. */
  readonly checkErrors: number;
  readonly leaksFixed: number;
  readonly corruptionsFixed: number;
  /** True when problems remain that `repair` can fix: leaks with "leaks", corruptions with "all". */
  readonly fixable: boolean;
  /** Which repair would fix what remains ("leaks" or "all"), if any. */
  readonly suggestedRepair: "leaks" | "all" | undefined;
  readonly totalClusters: number | undefined;
  readonly allocatedClusters: number | undefined;
  readonly fragmentedClusters: number | undefined;
  readonly compressedClusters: number | undefined;
  /** Where the image's data ends in the file, bytes. */
  readonly imageEndOffset: number | undefined;
  /** The parsed JSON, unchanged. */
  readonly json: ImageJsonObject;
}

const num = (v: ImageJsonObject[string] | undefined) => intOf(v) ?? 0;

/**
 * Checks an image's metadata (and optionally repairs it).
 *
 * @example
 * ```ts
 * const r = await image.check("vm.qcow2", { format: "qcow2" });
 * if (!r.ok && r.fixable) await image.check("vm.qcow2", { format: "qcow2", repair: r.suggestedRepair });
 * ```
 * @throws {ImageError} IMAGE_FORMAT (formats without metadata, e.g. raw), IMAGE_LOCKED, BACKING_MISSING, BACKING_LOOP
 */
export async function check(path: string, options: CheckOptions = {}): Promise<CheckResult> {
  const abs = absPath(path);
  await statImage(abs, "image");
  const format = await formatOf(abs, options.format);
  // qemu-img check opens the whole chain and recurses forever on a hard-link loop
  if (BACKING_FORMATS.includes(format)) await walkChain(abs, format);
  const args = ["check", "--output=json", "-f", format];
  if (options.repair) args.push("-r", options.repair);
  if (options.shareLock) args.push("-U");
  args.push(abs);
  const r = await runQemuImg(args, { op: "check", path, format, okExitCodes: [1, 2, 3, 63] });
  if (r.exitCode === 63) {
    throw new ImageError("IMAGE_FORMAT", `${format} images have no metadata qemu-img can check`, {
      advice: "check the guest file system instead (e.g. e2fsck on the partition)",
      details: { path, format },
    });
  }
  let j: ImageJsonObject;
  try {
    j = parseImageJson(r.stdout, { op: "check", path }) as ImageJsonObject;
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError("IMAGE_FAILED", `qemu-img check of ${path} did not complete: ${r.stderr.trim()}`, {
      cause: e,
      details: { path, stderr: r.stderr },
    });
  }
  const leaks = num(j["leaks"]);
  const corruptions = num(j["corruptions"]);
  const checkErrors = num(j["check-errors"]);
  const suggestedRepair = corruptions > 0 ? "all" : leaks > 0 ? "leaks" : undefined;
  return {
    ok: leaks === 0 && corruptions === 0 && checkErrors === 0,
    leaks,
    corruptions,
    checkErrors,
    leaksFixed: num(j["leaks-fixed"]),
    corruptionsFixed: num(j["corruptions-fixed"]),
    fixable: suggestedRepair !== undefined,
    suggestedRepair,
    totalClusters: intOf(j["total-clusters"]),
    allocatedClusters: intOf(j["allocated-clusters"]),
    fragmentedClusters: intOf(j["fragmented-clusters"]),
    compressedClusters: intOf(j["compressed-clusters"]),
    imageEndOffset: intOf(j["image-end-offset"]),
    json: j,
  };
}
