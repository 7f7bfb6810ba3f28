/**
 * `verify.checksums()`: check files against a SHA*SUMS file, like `sha512sum -c`, with a
 * per-file result and typed failures.
 * @module
 */
import { stat } from "node:fs/promises";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import type { DigestAlgorithm } from "./algorithms.ts";
import { VerifyError } from "./errors.ts";
import { hashFile } from "./hash.ts";
import { parseSumsFile } from "./sums-file.ts";

/** Options for {@link checksums}. */
export interface ChecksumOptions {
  /** Skip files that do not exist instead of failing, like `sha512sum --ignore-missing`. @default false */
  readonly ignoreMissing?: boolean;
  /** Directory the listed names are relative to. @default the sums file's directory */
  readonly dir?: string;
  /**
   * Check only these names (as listed in the sums file); a name with no line is an error,
   * and so is a missing file, even with `ignoreMissing` (you asked for it).
   */
  readonly files?: readonly string[];
  /**
   * Accept names that leave the directory (absolute paths, `../`). A sums file comes from
   * elsewhere: by default its names must stay inside `dir`, so it cannot make you hash (and
   * report on) `/etc/shadow`. @default false
   */
  readonly allowOutside?: boolean;
  /** Return the report instead of throwing when something did not verify. @default true */
  readonly reject?: boolean;
  /** Called after each file is checked (progress for big files). */
  readonly onResult?: (result: ChecksumResult) => void;
  readonly signal?: AbortSignal;
}

/** What happened to one listed file. */
export interface ChecksumResult {
  /** Name as listed in the sums file. */
  readonly name: string;
  /** Where it was looked for. */
  readonly path: string;
  readonly status: "OK" | "FAILED" | "MISSING";
  readonly algorithm: DigestAlgorithm;
  readonly expected: string;
  /** Digest actually computed (absent when the file is missing). */
  readonly actual?: string;
  readonly line: number;
}

/** The outcome of checking a whole sums file. */
export interface ChecksumReport {
  readonly sumsFile: string;
  readonly dir: string;
  readonly results: readonly ChecksumResult[];
  /**
   * True when every checked file is OK and at least one was checked; a missing file counts
   * unless `ignoreMissing` was set and it was not one of the `files` asked for.
   */
  readonly ok: boolean;
  readonly counts: { readonly ok: number; readonly failed: number; readonly missing: number };
}

/**
 * Checks every file listed in `sumsFile` (SHA512SUMS, SHA256SUMS, SHA1SUMS, MD5SUMS, `*.sha256`,
 * BSD tag lines) by streaming it through the listed digest.
 *
 * @example
 * ```ts
 * const report = await verify.checksums("SHA512SUMS", { ignoreMissing: true });
 * report.results; // [{ name: "debian.iso", status: "OK", ... }]
 * ```
 * @throws {VerifyError} `VERIFY_CHECKSUM_MISMATCH`, `VERIFY_MISSING_FILE`, `VERIFY_NOTHING_VERIFIED`
 *   (unless `reject: false`), and always `VERIFY_MALFORMED` for an unparsable line and
 *   `VERIFY_OUTSIDE_DIR` for a name outside the directory (unless `allowOutside`).
 */
export async function checksums(sumsFile: string, options: ChecksumOptions = {}): Promise<ChecksumReport> {
  let text: string;
  try {
    text = await readFile(sumsFile, "utf8");
  } catch (e) {
    throw new VerifyError("VERIFY_MISSING_FILE", `cannot read the sums file ${sumsFile}: ${(e as Error).message}`, {
      cause: e,
      advice: "check the path of the SHA*SUMS file",
    });
  }
  let entries = parseSumsFile(text, sumsFile);
  if (entries.length === 0) {
    throw new VerifyError("VERIFY_MALFORMED", `${sumsFile} lists no files`, {
      advice: "is this really a SHA*SUMS file?",
    });
  }
  if (options.files) {
    const wanted = new Set(options.files);
    const unlisted = options.files.filter((f) => !entries.some((e) => e.path === f));
    if (unlisted.length > 0) {
      throw new VerifyError("VERIFY_NOTHING_VERIFIED", `${sumsFile} has no line for ${unlisted.join(", ")}`, {
        advice: "the file is not covered by this sums file: check its name",
        details: { unlisted },
      });
    }
    entries = entries.filter((e) => wanted.has(e.path));
  }
  const dir = options.dir ?? dirname(sumsFile);
  const outside = options.allowOutside ? [] : entries.filter((e) => !staysInside(e.path, dir));
  if (outside.length > 0) {
    throw new VerifyError(
      "VERIFY_OUTSIDE_DIR",
      `${sumsFile} names files outside ${resolve(dir)}: ${outside.map((e) => JSON.stringify(e.path)).join(", ")}`,
      {
        advice:
          "a sums file should list names in its own directory; pass { allowOutside: true } (CLI: --allow-outside) only for a sums file you wrote yourself",
        details: { names: outside.map((e) => e.path), dir: resolve(dir) },
      },
    );
  }
  const results: ChecksumResult[] = [];
  for (const entry of entries) {
    const path = isAbsolute(entry.path) ? entry.path : resolve(dir, entry.path);
    const base = { name: entry.path, path, algorithm: entry.algorithm, expected: entry.digest, line: entry.line };
    let result: ChecksumResult;
    const exists = await stat(path).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!exists) {
      result = { ...base, status: "MISSING" };
    } else {
      const actual = await hashFile(path, entry.algorithm, options.signal);
      result = { ...base, status: actual === entry.digest ? "OK" : "FAILED", actual };
    }
    results.push(result);
    options.onResult?.(result);
  }
  const counts = {
    ok: results.filter((r) => r.status === "OK").length,
    failed: results.filter((r) => r.status === "FAILED").length,
    missing: results.filter((r) => r.status === "MISSING").length,
  };
  // ignoreMissing skips files nobody asked for by name; a file in `files` must be there.
  const ok =
    counts.failed === 0 && counts.ok > 0 && (counts.missing === 0 || (!!options.ignoreMissing && !options.files));
  const report: ChecksumReport = { sumsFile, dir, results, ok, counts };
  if (!ok && options.reject !== false) throw failure(report);
  return report;
}

/** True when `name` (as listed) resolves inside `dir`: relative, and no `..` climbs out. */
function staysInside(name: string, dir: string): boolean {
  if (isAbsolute(name)) return false;
  const rel = relative(resolve(dir), resolve(dir, name));
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function failure(report: ChecksumReport): VerifyError {
  const failed = report.results.filter((r) => r.status === "FAILED");
  const missing = report.results.filter((r) => r.status === "MISSING");
  const details = { report };
  if (failed.length > 0) {
    return new VerifyError(
      "VERIFY_CHECKSUM_MISMATCH",
      `${failed.length} of ${report.results.length} file(s) do not match ${report.sumsFile}: ${failed.map((r) => r.name).join(", ")}`,
      { advice: "the file is corrupt or was tampered with: download it again and do not use this copy", details },
    );
  }
  if (report.counts.ok === 0) {
    return new VerifyError(
      "VERIFY_NOTHING_VERIFIED",
      `no file listed in ${report.sumsFile} was found in ${report.dir}`,
      {
        advice: "pass { dir } (--dir) pointing at the downloaded files",
        details,
      },
    );
  }
  return new VerifyError(
    "VERIFY_MISSING_FILE",
    `${missing.length} listed file(s) are missing: ${missing.map((r) => r.name).join(", ")}`,
    {
      advice: "download them, or pass { ignoreMissing: true } (--ignore-missing) to check only the files present",
      details,
    },
  );
}
