/**
 * The one rule for operations on an existing image: use the caller's format, and detect
 * it only when none was given.
 * @module
 */
import { detectFormat } from "./detect.ts";
import { checkFormat, type ImageFormat } from "./formats.ts";

/** The caller's format (checked), or the detected one when omitted. */
export async function formatOf(absPath: string, given: ImageFormat | undefined): Promise<ImageFormat> {
  return given !== undefined ? checkFormat(given) : await detectFormat(absPath);
}
