/**
 * Streaming sha256 of a file, to prove a base image was not touched.
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** sha256 (hex) and length of the file at `path`, read as a stream. */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}
