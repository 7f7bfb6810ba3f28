/**
 * Download verification: SHA*SUMS files (streaming digests) and OpenPGP signatures (gpgv,
 * against a keyring file you name, never your own trust database, never a key server).
 *
 * @example
 * ```ts
 * import { verify } from "qemukit";
 * await verify.signature({ file: "SHA512SUMS", signature: "SHA512SUMS.sign", keyring: "debian-cd.gpg" });
 * await verify.checksums("SHA512SUMS", { ignoreMissing: true });
 * ```
 * @module
 */
import { checksums } from "./checksums.ts";
import { hashFile } from "./hash.ts";
import { signature } from "./signature.ts";
import { parseSumsFile } from "./sums-file.ts";

export type { DigestAlgorithm } from "./algorithms.ts";
export type { ChecksumOptions, ChecksumReport, ChecksumResult } from "./checksums.ts";
export { VerifyError } from "./errors.ts";
export type { VerifyErrorCode } from "./errors.ts";
export type { SignatureInfo, SignatureStatus } from "./gpg-status.ts";
export type { SignatureOptions, SignatureResult } from "./signature.ts";
export type { SumsEntry } from "./sums-file.ts";

/**
 * Verification as one object: `verify.checksums(sumsFile, options)`,
 * `verify.signature({ file, signature, keyring })`, `verify.hashFile(path, algorithm)`,
 * `verify.parseSums(text, name)`.
 *
 * @example
 * ```ts
 * const { results } = await verify.checksums("SHA256SUMS", { dir: "downloads" });
 * ```
 */
export const verify = Object.freeze({
  checksums,
  signature,
  hashFile,
  parseSums: parseSumsFile,
});
