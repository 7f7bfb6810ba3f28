/**
 * What every recipe exports, and the options the runners pass in.
 * @module
 */
import type { Reporter } from "./reporter.ts";

/** Describes a recipe: which lab exercise it reproduces and the lab's own commands. */
export interface RecipeMeta {
  /** Stable id, also the file name: `recipes/<id>.ts`. */
  readonly id: string;
  /** One line for listings and the summary table. */
  readonly title: string;
  /** The lab section this recipe reproduces. */
  readonly exercise: string;
  /** The commands the lab has the student type, verbatim. */
  readonly labCommands: readonly string[];
  /** Boots a full guest (or the installer): slow under TCG; the lab runner schedules it first. */
  readonly heavy: boolean;
  /** Runs through libvirt with `--on URI` (start-vm, overlays); the others refuse it. */
  readonly libvirt?: boolean;
}

/** Options every recipe understands. All optional: a recipe runs with none. */
export interface RecipeOptions {
  /**
   * A base disk image to boot instead of the built-in Debian guest (the lab's
   * `debian-11.qcow2`). It is never written: VMs run on overlays over it.
   */
  readonly image?: string;
  /**
   * Which built-in guest boots when no `image` is given: `debian` (the lab's counterpart,
   * the default) or `tiny` (kernel + initramfs, seconds to a shell; for tests of
   * exercises that do not care which OS runs).
   */
  readonly guest?: "debian" | "tiny";
  /** Where artefacts that outlive the recipe (screenshots) go. @default "./lab-output" */
  readonly outDir?: string;
  /** Prints the steps; silent when absent. */
  readonly reporter?: Reporter;
  /** VNC display number for recipes that export one (the lab uses `:1`). @default 1 */
  readonly display?: number;
  /**
   * A libvirt URI (`qemu:///system`, `qemu+ssh://root@host/system`): the VMs run as libvirt
   * domains there, their disks on that host. Only recipes whose `meta.libvirt` is true.
   */
  readonly on?: string;
}

/** A recipe module: `meta` plus `run`. */
export interface Recipe<O extends object = object> {
  readonly meta: RecipeMeta;
  run(options?: RecipeOptions): Promise<O>;
  /** The answer in one line, for the lab's summary table. */
  summarize(observations: O): string;
}
