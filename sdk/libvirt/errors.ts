/**
 * Errors of the libvirt backend: a spec feature libvirt cannot run, and libvirt (virsh, the
 * daemon, the ssh transport) failing or refusing.
 * @module
 */
import { QemukitError, type QemukitErrorOptions } from "../errors/errors.ts";

/** Stable codes of {@link LibvirtError}. */
export type LibvirtErrorCode =
  | "LIBVIRT_UNSUPPORTED" // the spec uses a feature the libvirt backend refuses (nothing was started)
  | "LIBVIRT_CONNECT" // libvirt at the URI could not be reached or used
  | "LIBVIRT_COMMAND" // a virsh command failed (the daemon's words are in the message)
  | "LIBVIRT_NOT_FOUND" // attach(): no domain of that name, or not one qemukit started
  | "LIBVIRT_NO_ROOM"; // a fleet has no host with enough free memory for a VM

/**
 * Something libvirt refused or could not do. `LIBVIRT_UNSUPPORTED` is raised before anything
 * starts, with the feature and the reason: "not supported on libvirt: X, because Y".
 *
 * @example
 * ```ts
 * try { vm().display("gtk").toDomainXml(); }
 * catch (e) { if (e instanceof LibvirtError && e.code === "LIBVIRT_UNSUPPORTED") console.error(e.details.feature); }
 * ```
 */
export class LibvirtError extends QemukitError {
  declare readonly code: LibvirtErrorCode;
  constructor(code: LibvirtErrorCode, message: string, options: QemukitErrorOptions = {}) {
    super(code, message, options);
  }
}
