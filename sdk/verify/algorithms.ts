/**
 * Which digest a sums file uses (pure).
 * @module
 */
import { basename } from "node:path";

/** Digest algorithms understood in sums files (node:crypto names). */
export type DigestAlgorithm = "md5" | "sha1" | "sha224" | "sha256" | "sha384" | "sha512";

const BY_HEX_LENGTH: Record<number, DigestAlgorithm> = {
  32: "md5",
  40: "sha1",
  56: "sha224",
  64: "sha256",
  96: "sha384",
  128: "sha512",
};

/** Hex length of each algorithm's digest. */
export const HEX_LENGTH: Record<DigestAlgorithm, number> = {
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

/**
 * The algorithm a sums file's name announces: `SHA512SUMS`, `sha256sum.txt`, `foo.iso.sha256`,
 * `MD5SUMS`... or undefined when the name says nothing.
 *
 * @example
 * ```ts
 * algorithmFromFileName("/srv/SHA512SUMS"); // "sha512"
 * ```
 */
export function algorithmFromFileName(path: string): DigestAlgorithm | undefined {
  const m = /(md5|sha-?(1|224|256|384|512))(sums?)?\b/i.exec(basename(path));
  if (!m) return undefined;
  return m[1]!.toLowerCase().replace("-", "") as DigestAlgorithm;
}

/**
 * The algorithm whose hex digest has `length` characters, or undefined.
 *
 * @example
 * ```ts
 * algorithmFromHexLength(64); // "sha256"
 * ```
 */
export function algorithmFromHexLength(length: number): DigestAlgorithm | undefined {
  return BY_HEX_LENGTH[length];
}

/**
 * Parses `SHA256`, `SHA-512`, `MD5` (BSD tag style) into an algorithm name.
 *
 * @example
 * ```ts
 * algorithmFromTag("SHA-512"); // "sha512"
 * ```
 */
export function algorithmFromTag(tag: string): DigestAlgorithm | undefined {
  const a = tag.toLowerCase().replace("-", "");
  return a in HEX_LENGTH ? (a as DigestAlgorithm) : undefined;
}
