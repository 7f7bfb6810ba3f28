/**
 * Image formats inferred from file names. QEMU is never allowed to probe a format (a raw
 * image whose first bytes look like a qcow2 header would be misread), so a format is either
 * given or derived from the extension here, at spec time.
 * @module
 */
import { SpecError } from "../errors/errors.ts";
import type { ImageFormat } from "./types.ts";

const BY_EXTENSION: Readonly<Record<string, ImageFormat>> = {
  qcow2: "qcow2",
  qcow: "qcow2", // the lab's `qemu-img create -f qcow2 virtualdisk.qcow`
  raw: "raw",
  img: "raw",
  iso: "raw",
  vdi: "vdi",
  vmdk: "vmdk",
  vhdx: "vhdx",
  vhd: "vpc",
  vpc: "vpc",
  qed: "qed",
};

/** Every format qemukit passes to QEMU (and the image layer creates and opens). */
export const IMAGE_FORMATS: readonly ImageFormat[] = ["qcow2", "raw", "vdi", "vmdk", "vhdx", "qed", "vpc"];

/**
 * True when `name` is one of {@link IMAGE_FORMATS}. Both layers' `checkFormat` rest on it
 * and differ only in the error they throw.
 *
 * @example
 * ```ts
 * isImageFormat("qcow2"); // true
 * isImageFormat("qcow3"); // false
 * ```
 */
export function isImageFormat(name: unknown): name is ImageFormat {
  return typeof name === "string" && (IMAGE_FORMATS as readonly string[]).includes(name);
}

/**
 * The format an extension implies, or `undefined` when the name says nothing.
 *
 * @example
 * ```ts
 * formatFromExtension("debian-11.qcow2");   // "qcow2"
 * formatFromExtension("disk.bin");          // undefined
 * ```
 */
export function formatFromExtension(path: string): ImageFormat | undefined {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return undefined;
  return BY_EXTENSION[base.slice(dot + 1).toLowerCase()];
}

/**
 * The format of an image file named `path`, from its extension (`.qcow2`/`.qcow` ->
 * qcow2, `.raw`/`.img`/`.iso` -> raw, `.vdi`, `.vmdk`, `.vhdx`, `.vhd` -> vpc, `.qed`).
 * Throws `SPEC_FORMAT` when the extension is unknown.
 *
 * @example
 * ```ts
 * inferFormat("debian-11.qcow2");  // "qcow2"
 * inferFormat("disk.bin");         // throws SpecError SPEC_FORMAT
 * ```
 */
export function inferFormat(path: string): ImageFormat {
  const f = formatFromExtension(path);
  if (f) return f;
  throw new SpecError(`cannot tell the image format of ${JSON.stringify(path)} from its name`, {
    code: "SPEC_FORMAT",
    advice:
      `pass it explicitly, e.g. disk({ path: ${JSON.stringify(path)}, format: "raw" }) ` +
      "(or detect it with image.info / detectFormat); qemukit never lets QEMU guess a format",
    details: { path },
  });
}

/**
 * The one check of a format name, for both layers: the name when qemukit knows it, else
 * the error `fail` makes from the shared message and advice (the spec layer throws
 * `SpecError` `SPEC_FORMAT`, the image layer `ImageError` `IMAGE_FORMAT`).
 *
 * @example
 * ```ts
 * checkFormatWith("qcow3", (message, advice) => new Error(`${message}: ${advice}`), { what: "backing format" });
 * // throws Error: unknown image backing format "qcow3": use one of: qcow2, raw, ...
 * ```
 */
export function checkFormatWith(
  name: unknown,
  fail: (message: string, advice: string, details: { format: unknown; path?: string }) => Error,
  where: { readonly what?: string; readonly path?: string } = {},
): ImageFormat {
  if (isImageFormat(name)) return name;
  const { what = "format", path } = where;
  throw fail(
    `unknown image ${what} ${JSON.stringify(name)}${path ? ` for ${JSON.stringify(path)}` : ""}`,
    `use one of: ${IMAGE_FORMATS.join(", ")}`,
    { format: name, ...(path !== undefined ? { path } : {}) },
  );
}

/**
 * Throws `SPEC_FORMAT` unless `f` is a format qemukit knows.
 *
 * @example
 * ```ts
 * checkFormat("raw");     // "raw"
 * checkFormat("qcow3");   // throws SpecError SPEC_FORMAT
 * ```
 */
export function checkFormat(f: string, path?: string): ImageFormat {
  return checkFormatWith(
    f,
    (message, advice, details) => new SpecError(message, { code: "SPEC_FORMAT", advice, details }),
    { path },
  );
}
