/**
 * qemu-img's `--output=json` as qemukit's results hold it: every integer a plain number.
 * qemu-img prints sizes and offsets as unsigned 64-bit integers; up to 2^53 - 1 (8 PiB)
 * a number holds them exactly, and no image qemukit creates is larger. A value above
 * that is refused with `SIZE_TOO_LARGE` instead of being rounded or handed out as a
 * bigint that `JSON.stringify` cannot write. Pure, no I/O.
 * @module
 */
import { hasLongDigitRun, parseJsonLossless, type LosslessJson } from "../util/json.ts";
import { ImageError } from "./errors.ts";

/** A JSON value from qemu-img, integers as exact numbers. */
export type ImageJson = null | boolean | number | string | ImageJson[] | { [key: string]: ImageJson };

/** A JSON object from qemu-img. */
export type ImageJsonObject = { readonly [key: string]: ImageJson };

/**
 * Parses qemu-img's JSON output; an integer above 2^53 - 1 throws `SIZE_TOO_LARGE`
 * naming the field, the operation and the image.
 *
 * @example
 * ```ts
 * parseImageJson('{"virtual-size": 67108864}', { op: "info", path: "a.qcow2" }); // { "virtual-size": 67108864 }
 * ```
 * @throws {ImageError} SIZE_TOO_LARGE
 */
export function parseImageJson(text: string, from: { readonly op: string; readonly path: string }): ImageJson {
  return exact(parseJsonLossless(text, hasLongDigitRun(text)) as LosslessJson, "", from);
}

function exact(v: LosslessJson, key: string, from: { readonly op: string; readonly path: string }): ImageJson {
  if (typeof v === "bigint") {
    throw new ImageError(
      "SIZE_TOO_LARGE",
      `qemu-img ${from.op} reported ${key || "a value"} = ${v} for ${from.path}, above 2^53 - 1 (8 PiB)`,
      {
        advice:
          "qemukit's results hold sizes as exact numbers up to 8 PiB; use qemu-img directly for an image this large",
        details: { path: from.path, field: key, value: v.toString() },
      },
    );
  }
  if (Array.isArray(v)) return v.map((x) => exact(x, key, from));
  if (v !== null && typeof v === "object") {
    const out: { [key: string]: ImageJson } = {};
    for (const [k, x] of Object.entries(v)) {
      const value = exact(x, k, from);
      // defineProperty keeps a "__proto__" key as data, as the parser does.
      if (k === "__proto__")
        Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
      else out[k] = value;
    }
    return out;
  }
  return v;
}

/**
 * A JSON integer as a number, or `undefined` when absent or not an integer.
 *
 * @example
 * ```ts
 * intOf(4096);   // 4096
 * intOf("x");    // undefined
 * ```
 */
export function intOf(v: ImageJson | undefined): number | undefined {
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}
