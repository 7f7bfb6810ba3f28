/**
 * Errors of guest builds.
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/**
 * A guest could not be built. `code` says why:
 * `GUEST_NETWORK` (Debian's package registry unreachable), `GUEST_DISK_FULL`,
 * `GUEST_BUILD` (anything else; `cause` holds the failing step's error).
 */
export class GuestBuildError extends QemukitError {
  declare readonly code: "GUEST_NETWORK" | "GUEST_DISK_FULL" | "GUEST_BUILD";
  /** The guest being built. */
  readonly guest: string;
  constructor(
    guest: string,
    message: string,
    options: QemukitErrorOptions & { readonly code?: "GUEST_NETWORK" | "GUEST_DISK_FULL" | "GUEST_BUILD" } = {},
  ) {
    super(options.code ?? "GUEST_BUILD", `building the ${guest} guest failed: ${message}`, {
      ...options,
      details: { guest, ...(options.details ?? {}) },
    });
    this.guest = guest;
  }
}

const NETWORK_PATTERNS = [
  /Temporary failure resolving/i,
  /Could not resolve/i,
  /Could not connect/i,
  /Failed to fetch/i,
  /Network is unreachable/i,
  /Connection timed out/i,
  /Unable to connect/i,
];

/** True when a tool's stderr says the package registry could not be reached. */
export function looksLikeNetworkFailure(text: string): boolean {
  return NETWORK_PATTERNS.some((re) => re.test(text));
}

/** True when an error or a tool's stderr says the disk is full. */
export function looksLikeDiskFull(e: unknown, text = ""): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || /No space left on device|Disk quota exceeded/i.test(text);
}
