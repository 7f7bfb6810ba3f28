/**
 * Streaming file digests: memory stays flat for multi-gigabyte images.
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { DigestAlgorithm } from "./algorithms.ts";

/**
 * Hashes a file by streaming it through node:crypto.
 *
 * @example
 * ```ts
 * await hashFile("debian.iso", "sha512"); // "a1b2..." (lower-case hex)
 * ```
 */
export function hashFile(path: string, algorithm: DigestAlgorithm, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash(algorithm);
    const stream = createReadStream(path, { highWaterMark: 1 << 20, signal });
    stream.on("data", (chunk) => hash.update(chunk));
    stream.on("error", reject);
    stream.on("end", () => resolve(hash.digest("hex")));
  });
}
