/**
 * The contract between the pure compiler and the machine layer that runs its output.
 * @module
 */
import type { Accel, ImageFormat } from "../spec/types.ts";

/** Facts only known when a VM is about to start; the compiler stays pure by taking them in. */
export interface CompileContext {
  /** The VM's private run directory: sockets, pidfile and default overlays live here. */
  readonly runDir: string;
  /** Concrete accelerators in order of preference (the machine layer resolves `auto`). */
  readonly accel?: readonly Accel[];
  /** Add `-S`: start with vCPUs paused so no early console output is lost. */
  readonly startPaused?: boolean;
  /** QEMU binary; default `qemu-system-x86_64`. */
  readonly qemuBinary?: string;
  /** Base formats detected by the machine layer, keyed by base path (overrides guesses). */
  readonly baseFormats?: Readonly<Record<string, ImageFormat>>;
  /**
   * Directory relative overlay bases are resolved against (qemu-img would otherwise resolve
   * them against the overlay's own directory). Default: `process.cwd()`.
   */
  readonly cwd?: string;
  /**
   * Back guest RAM with this file (`-object memory-backend-file`) instead of anonymous memory.
   * `share: true` writes RAM through to the file (a template being made); `false` maps it
   * copy-on-write (a clone: pages come from the file until the guest writes them).
   */
  readonly memoryFile?: { readonly path: string; readonly share: boolean };
}

/** An overlay the machine layer must create (qemu-img create -f qcow2 -b base -F fmt path) before spawning. */
export interface OverlayPlan {
  readonly base: string;
  readonly baseFormat: ImageFormat;
  readonly path: string;
  /** True when the path is inside the run directory (deleted with it unless kept). */
  readonly temporary: boolean;
}

/** Output of `compile(spec, ctx)`. */
export interface CompiledVm {
  /** Full argv, program first. */
  readonly argv: readonly string[];
  /** Overlays to create first, in order. */
  readonly overlays: readonly OverlayPlan[];
  /** QMP unix socket path (server), when the spec has a monitor. */
  readonly qmpSocket?: string;
  /** Serial console unix socket path (server), when `serial` is `socket`. */
  readonly consoleSocket?: string;
  /** Pidfile path (always set when daemonized). */
  readonly pidfile?: string;
}
