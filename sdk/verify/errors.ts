/**
 * Verification failures. Every one has a stable code so scripts can tell a tampered file
 * (VERIFY_CHECKSUM_MISMATCH, VERIFY_BAD_SIGNATURE) from a setup problem (VERIFY_UNKNOWN_KEY,
 * VERIFY_KEYRING).
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/** Stable codes of {@link VerifyError}. */
export type VerifyErrorCode =
  | "VERIFY_CHECKSUM_MISMATCH" // a file's digest differs from the sums file
  | "VERIFY_MISSING_FILE" // a listed file does not exist (and ignoreMissing was not set)
  | "VERIFY_NOTHING_VERIFIED" // every listed file was missing, or the filter matched nothing
  | "VERIFY_MALFORMED" // a sums file line or a signature that cannot be parsed
  | "VERIFY_OUTSIDE_DIR" // a sums file names a file outside its directory (absolute or ../), not allowed by the caller
  | "VERIFY_INVALID_OPTION" // an option that would make the check meaningless (an empty fingerprint list)
  | "VERIFY_BAD_SIGNATURE" // the signature does not match the data (tampered data or signature)
  | "VERIFY_UNKNOWN_KEY" // signed by a key that is not in the keyring
  | "VERIFY_EXPIRED_KEY" // signed by a key that has expired
  | "VERIFY_EXPIRED_SIGNATURE" // the signature itself has expired
  | "VERIFY_REVOKED_KEY" // signed by a revoked key
  | "VERIFY_WRONG_SIGNER" // good signature, but not by one of the expected fingerprints
  | "VERIFY_KEYRING" // the keyring file is missing or unusable
  | "VERIFY_SIGNATURE_ERROR"; // any other reason gpgv gave for not verifying

/** A checksum or signature did not verify. `details` carries the full report. */
export class VerifyError extends QemukitError {
  declare readonly code: VerifyErrorCode;
  constructor(code: VerifyErrorCode, message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}
