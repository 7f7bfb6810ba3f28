/**
 * Templates: boot a spec once, wait until it is ready, save the machine state (QMP
 * `migrate` to a file) and freeze its disk layers; then start clones from it, each a new
 * QEMU with the same devices, a fresh overlay on the frozen layer, and `-incoming`.
 *
 * On disk (`<cache>/templates/template-<hash>/`, made by the guest cache's atomic build):
 * `state` (the saved device state), `ram` (guest RAM: the template VM ran with its memory
 * backed by this file, and the state was saved with `x-ignore-shared`, so RAM is not in it),
 * `disk<N>.qcow2` (the frozen overlays, mode 0444, backed by the spec's own bases, which are
 * never written), `template.json`, `guest.json`.
 *
 * A clone maps `ram` copy-on-write (MAP_PRIVATE): restoring reads a few hundred KB of device
 * state instead of the guest's whole RAM, and clones share the unchanged pages through the
 * page cache. `ram` stays mode 0644: QEMU 7.2 opens a memory backend file read-write even
 * for a private mapping (its `readonly=on` would make guest RAM read-only); nothing writes it.
 * @module
 */
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { shellQuote } from "../compile/shell.ts";
import { cachedBuild, recipeHash } from "../guests/cache.ts";
import type { RunningVm } from "../machine/running-vm.ts";
import { type RestorePlan, type StartOptions, startVm } from "../machine/start.ts";
import type { WaitStrategy } from "../machine/wait.ts";
import { VmBuilder } from "../spec/builder.ts";
import { overlay } from "../spec/overlay.ts";
import type { Accel, DiskSpec, VmSpec } from "../spec/types.ts";
import { cacheDir } from "../util/dirs.ts";
import { CLOCK_HELPER_VERSION, dateClock, helperClock, installClockHelper } from "./clock.ts";
import { TemplateError } from "./errors.ts";
import { absoluteSpec, inputIdentities, machineDiff, machineOf, TEMPLATE_FORMAT_VERSION } from "./key.ts";

/** Name of the saved state inside a template directory. */
export const STATE_FILE = "state";
/** Name of the file backing the template's RAM inside a template directory. */
export const RAM_FILE = "ram";
/** Name of the description inside a template directory. */
export const TEMPLATE_FILE = "template.json";

/**
 * How a clone's clock is put right after restore (its guest clock resumes at the moment
 * the template was saved):
 * - `"console"`: through the serial console's shell (needs a root shell there, as the
 *   built-in guests have). The template leaves a small helper waiting in the guest
 *   (`/run/qemukit-clock`, x86-64 Linux); a clone's shell hands it the host's time with
 *   builtins, so no process starts in the clone. Where the helper cannot run, clones type
 *   `date -s @SECONDS` instead (slower: the clone's first fork+exec);
 * - `"none"`: leave it (for guests without a shell on the console);
 * - a function: your own way, e.g. the guest agent's `guest-set-time` once the spec has one.
 */
export type ClockFix = "console" | "none" | ((vm: RunningVm, signal?: AbortSignal) => Promise<void>);

/** Options of {@link VmBuilder.template} / {@link template}. */
export interface TemplateOptions {
  /** When the booted guest is ready to be saved, e.g. `Wait.forConsole(g.prompt)`. */
  readonly ready: WaitStrategy;
  /** How clones correct their clock after restore. @default "console" */
  readonly clock?: ClockFix;
  /** Runs in the booted VM just before its state is saved (e.g. stop a service); give `id` with it. */
  readonly prepare?: (vm: RunningVm) => Promise<void>;
  /**
   * Extra text in the cache key. What `ready` and `prepare` do is not part of the key (code
   * cannot be hashed reliably): change `id` when they change what the saved guest holds.
   */
  readonly id?: string;
  /** Build again even when the cache has this template. @default false */
  readonly rebuild?: boolean;
  /** Cache root. @default cacheDir() ($QEMUKIT_CACHE, else ~/.cache/qemukit) */
  readonly cacheRoot?: string;
  /** Options for the one boot that makes the template (timeout, signal, qemuBinary...). */
  readonly start?: Omit<StartOptions, "waitFor" | "paused" | "keep" | "runDir">;
}

/** What `template.json` holds. */
export interface TemplateInfo {
  readonly qemukitTemplate: typeof TEMPLATE_FORMAT_VERSION;
  /** The spec the template was made from, as given. */
  readonly spec: VmSpec;
  /** The accelerator the saved state was made under; clones use the same. */
  readonly accel: Accel;
  /** Frozen overlay per disk index (file name in the template directory), null for disks used as is. */
  readonly frozen: readonly (string | null)[];
  readonly clock: "console" | "none" | "custom";
  /**
   * With clock "console": true when the clock helper runs in the saved guest (clones use it),
   * false when it could not (clones type `date -s`).
   */
  readonly clockHelper?: boolean;
  /** Wall-clock time of the save (ms since the epoch). */
  readonly savedAt: number;
  readonly bootMs: number;
  readonly saveMs: number;
  readonly stateBytes: number;
  readonly qemuBinary?: string;
}

/** Options of {@link Template.start}: the usual start options, plus the clone's own spec. */
export interface CloneOptions extends StartOptions {
  /**
   * The clone's spec. Default: the template's, with a generated name, fixed forwarded host
   * ports made automatic and a fixed VNC display made `"auto"` (so clones never collide).
   * When given, everything the saved state depends on must equal the template's (memory,
   * CPUs, disks, devices, kernel): else TEMPLATE_MISMATCH, before anything starts. Name,
   * VNC, forwarded host ports and keep may differ.
   */
  readonly spec?: VmSpec | VmBuilder;
  /** The clone's name. @default generated (`vm-xxxxxx`) */
  readonly name?: string;
  /** This clone's clock fix, instead of the template's (`"none"` skips it: a few ms faster). */
  readonly clock?: ClockFix;
}

/**
 * Root of the template cache: `<cacheRoot>/templates`.
 *
 * @example
 * ```ts
 * templatesRoot(); // "/home/me/.cache/qemukit/templates"
 * ```
 */
export function templatesRoot(root: string = cacheDir()): string {
  return join(root, "templates");
}

/** The spec a clone gets when none is given: the template's, minus what must be per VM. */
function perClone(spec: VmSpec): VmSpec {
  const { name: _name, ...rest } = spec;
  return {
    ...rest,
    keep: false,
    daemonize: false,
    ...(spec.vnc && spec.vnc.to === undefined ? { vnc: { ...spec.vnc, display: 0, to: 99 } } : {}),
    network:
      spec.network.kind === "user"
        ? { ...spec.network, forwards: spec.network.forwards.map((f) => ({ ...f, hostPort: 0 })) }
        : spec.network,
  };
}

/** Polls QMP until an outgoing migration ends. */
async function awaitMigration(vm: RunningVm, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await vm.qmp.execute("query-migrate");
    if (s.status === "completed") return;
    if (s.status === "failed" || s.status === "cancelled") {
      throw new TemplateError("TEMPLATE_SAVE", `saving the machine state failed: ${s["error-desc"] ?? s.status}`, {
        advice: "look at qemu.log of the template VM; free disk space in the cache if it is full",
        details: { status: s.status },
      });
    }
    if (Date.now() > end) {
      throw new TemplateError("TEMPLATE_SAVE", `saving the machine state took over ${timeoutMs} ms`, {
        advice: "the guest may have too much memory for this disk; try again or give the guest less memory",
      });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Boots `spec` once in a VM whose overlays live in `tmp`, saves its state there, freezes everything. */
async function makeTemplate(spec: VmSpec, tmp: string, options: TemplateOptions): Promise<TemplateInfo> {
  const frozen: (string | null)[] = [];
  const disks: DiskSpec[] = spec.disks.map((d, i) => {
    if (d.source.kind !== "overlay") {
      frozen.push(null);
      return d;
    }
    const file = `disk${i}.qcow2`;
    frozen.push(file);
    return {
      ...d,
      source: overlay(resolve(d.source.base), {
        path: join(tmp, file),
        ...(d.source.baseFormat ? { baseFormat: d.source.baseFormat } : {}),
      }),
    };
  });
  const { name: _name, ...rest } = spec;
  const bootSpec: VmSpec = { ...rest, disks, keep: false, daemonize: false };
  const t0 = Date.now();
  const m = await startVm(
    bootSpec,
    { ...(options.start ?? {}), waitFor: options.ready },
    { memoryFile: { path: join(tmp, RAM_FILE), share: true } },
  );
  try {
    const bootMs = Date.now() - t0;
    await options.prepare?.(m);
    const clock = typeof options.clock === "function" ? "custom" : (options.clock ?? "console");
    // Last before the save, so that nothing prepare does can stop it.
    const clockHelper = clock === "console" ? await installClockHelper(m, 60_000) : undefined;
    const t1 = Date.now();
    // RAM is in the shared file already; the stream then carries the devices only.
    await m.qmp.execute("migrate-set-capabilities", {
      capabilities: [{ capability: "x-ignore-shared", state: true }],
    });
    await m.qmp.execute("stop");
    const savedAt = Date.now();
    const statePath = join(tmp, STATE_FILE);
    // QEMU runs an exec: URI through sh -c, hence the quoting.
    await m.qmp.execute("migrate", { uri: `exec:cat > ${shellQuote(statePath)}` });
    await awaitMigration(m, 300_000);
    const saveMs = Date.now() - t1;
    await m.kill();
    for (const f of frozen) if (f) await chmod(join(tmp, f), 0o444);
    await chmod(statePath, 0o444);
    return {
      qemukitTemplate: TEMPLATE_FORMAT_VERSION,
      spec,
      accel: m.accel.chosen,
      frozen,
      clock,
      ...(clockHelper !== undefined ? { clockHelper } : {}),
      savedAt,
      bootMs,
      saveMs,
      stateBytes: (await stat(statePath)).size,
      ...(options.start?.qemuBinary ? { qemuBinary: options.start.qemuBinary } : {}),
    };
  } finally {
    await m.kill();
  }
}

/** What a template's cache key is made of: the machine, its input files' identities, `id`, the clock mode. */
async function templateRecipe(spec: VmSpec, options: Omit<TemplateOptions, "ready">): Promise<unknown> {
  const qemuBinary = options.start?.qemuBinary;
  const { files } = await inputIdentities(spec, qemuBinary ? { qemuBinary } : {});
  const clock = typeof options.clock === "function" ? "custom" : (options.clock ?? "console");
  return {
    version: TEMPLATE_FORMAT_VERSION,
    machine: machineOf(spec),
    files,
    id: options.id ?? null,
    clock,
    ...(clock === "console" ? { clockHelper: CLOCK_HELPER_VERSION } : {}),
  };
}

/**
 * The cache key a template of `spec` gets (the `<hash>` of `template-<hash>`): it changes
 * when the machine, a file it reads (each backing layer, kernel, initrd, QEMU), `id` or the
 * clock mode changes. Nothing is started.
 *
 * @example
 * ```ts
 * const before = await templateKey(spec);
 * const after = await templateKey({ ...spec, memoryMiB: 512 }); // !== before
 * ```
 */
export async function templateKey(
  spec: VmSpec | VmBuilder,
  options: Omit<TemplateOptions, "ready"> = {},
): Promise<string> {
  return recipeHash(await templateRecipe(absoluteSpec(spec instanceof VmBuilder ? spec.spec : spec), options));
}

/**
 * Makes (or finds in the cache) a template of `spec`: boots it once, waits for `ready`,
 * saves the machine state and freezes the disk layers. Shared between processes: a
 * second process asking for the same template waits for the first one's build.
 *
 * @example
 * ```ts
 * const g = await guests.tiny();
 * const t = await template(vm().accel("tcg").memory(256).kernel(g.kernel, { initrd: g.initrd, append: g.append }).spec, {
 *   ready: Wait.forConsole(g.prompt),
 * });
 * await using m = await t.start();
 * ```
 * @throws {TemplateError} TEMPLATE_DISK for a writable disk used as is, TEMPLATE_SAVE when saving fails,
 *   TEMPLATE_CLOCK for `clock: "console"` without qemukit's console.
 * @throws {VmStartError} when the one boot fails (not ready in time, QEMU error).
 */
export async function template(spec: VmSpec | VmBuilder, options: TemplateOptions): Promise<Template> {
  const s = absoluteSpec(spec instanceof VmBuilder ? spec.spec : spec);
  if ((options.clock ?? "console") === "console" && s.serial.kind !== "socket") {
    throw new TemplateError(
      "TEMPLATE_CLOCK",
      `clock: "console" needs qemukit's console, and this spec's serial port is ${s.serial.kind}`,
      {
        advice: 'keep the default serial("socket"), or pass clock: "none" (or your own function) to template()',
      },
    );
  }
  const recipe = await templateRecipe(s, options);
  const got = await cachedBuild({
    name: "template",
    recipe,
    root: templatesRoot(options.cacheRoot),
    ...(options.rebuild ? { force: true } : {}),
    build: async (tmp) => {
      const info = await makeTemplate(s, tmp, options);
      await writeFile(join(tmp, TEMPLATE_FILE), JSON.stringify(info, null, 2) + "\n", { mode: 0o444 });
      return { accel: info.accel, stateBytes: String(info.stateBytes), bootMs: String(info.bootMs) };
    },
  });
  const info = JSON.parse(await readFile(join(got.dir, TEMPLATE_FILE), "utf8")) as TemplateInfo;
  return new Template(got.dir, info, got.built, typeof options.clock === "function" ? options.clock : undefined);
}

/**
 * A saved, frozen VM: start clones from it with {@link Template.start}. Made by
 * `vm()...template({ ready })` or {@link template}.
 *
 * @example
 * ```ts
 * const t = await vm().accel("tcg").disk(overlay(g.image)).template({ ready: Wait.forConsole(g.prompt) });
 * const clones = await Promise.all([1, 2, 3, 4].map(() => t.start()));
 * ```
 */
export class Template {
  /** The template's directory in the cache. */
  readonly dir: string;
  /** What `template.json` says: spec, accelerator, frozen layers, timings. */
  readonly info: TemplateInfo;
  /** True when this call built the template, false when it came from the cache. */
  readonly built: boolean;
  readonly #clock: ((vm: RunningVm, signal?: AbortSignal) => Promise<void>) | undefined;

  /** Use {@link template} or `vm()...template()`; this wraps a directory they made. */
  constructor(
    dir: string,
    info: TemplateInfo,
    built: boolean,
    clock?: (vm: RunningVm, signal?: AbortSignal) => Promise<void>,
  ) {
    this.dir = dir;
    this.info = info;
    this.built = built;
    this.#clock = clock;
  }

  /** The spec the template was made from. */
  get spec(): VmSpec {
    return this.info.spec;
  }

  /** The saved machine state (read-only). */
  get stateFile(): string {
    return join(this.dir, STATE_FILE);
  }

  /** The frozen overlays (read-only), by disk index; null for a disk used as is. */
  get frozenDisks(): (string | null)[] {
    return this.info.frozen.map((f) => (f ? join(this.dir, f) : null));
  }

  /**
   * Throws TEMPLATE_MISMATCH when `spec` differs from the template in anything its saved
   * state depends on. Nothing is started.
   *
   * @example
   * ```ts
   * t.check(vm().memory(1024).spec); // TemplateError TEMPLATE_MISMATCH: memoryMiB
   * ```
   */
  check(spec: VmSpec | VmBuilder): void {
    const s = spec instanceof VmBuilder ? spec.spec : spec;
    const diffs = machineDiff(machineOf(this.info.spec), machineOf(s));
    if (diffs.length === 0) return;
    const first = diffs[0]!;
    const shown = diffs
      .slice(0, 3)
      .map((d) => `${d.field} (template ${JSON.stringify(d.template)}, clone ${JSON.stringify(d.clone)})`)
      .join("; ");
    throw new TemplateError(
      "TEMPLATE_MISMATCH",
      `the clone's spec differs from the template's in ${diffs.length === 1 ? "" : `${diffs.length} places, first `}${shown}`,
      {
        advice:
          "a saved state only loads into the same machine: change only name, VNC, forwarded host ports or keep, or make a template of the new spec (vm()...template())",
        details: { field: first.field, template: first.template, clone: first.clone, differences: diffs },
      },
    );
  }

  /**
   * Starts a clone: a new QEMU with the template's devices, a fresh overlay on each frozen
   * layer, the saved state loaded (`-incoming`), `cont`, then the clock set. Returns the
   * ordinary running-VM handle; its disks, sockets, ports and run directory are its own.
   *
   * @example
   * ```ts
   * await using m = await t.start();
   * (await m.console.run("date +%s")).output; // now, not the template's save time
   * ```
   * @throws {TemplateError} TEMPLATE_MISMATCH (nothing started) or TEMPLATE_CLOCK.
   * @throws {VmStartError} when QEMU or the restore fails; nothing is left behind.
   */
  async start(options: CloneOptions = {}): Promise<RunningVm> {
    const { spec: given, name, clock, ...startOptions } = options;
    let base: VmSpec;
    if (given) {
      base = given instanceof VmBuilder ? given.spec : given;
      this.check(base);
    } else {
      base = perClone(this.info.spec);
    }
    const frozen = this.frozenDisks;
    const spec: VmSpec = {
      ...base,
      ...(name !== undefined ? { name } : {}),
      accel: this.info.accel,
      disks: base.disks.map((d, i) => {
        const layer = frozen[i];
        if (!layer || d.source.kind !== "overlay") return d;
        return {
          ...d,
          source: overlay(layer, { baseFormat: "qcow2", ...(d.source.path ? { path: d.source.path } : {}) }),
        };
      }),
    };
    const fix =
      clock === undefined
        ? this.#clockFix()
        : clock === "none"
          ? undefined
          : clock === "console"
            ? this.#consoleClock()
            : clock;
    const plan: RestorePlan = {
      stateFile: this.stateFile,
      template: this.dir,
      ignoreShared: true,
      ...(fix ? { afterResume: fix } : {}),
    };
    const qemuBinary = startOptions.qemuBinary ?? this.info.qemuBinary;
    return startVm(
      spec,
      { ...startOptions, ...(qemuBinary ? { qemuBinary } : {}) },
      { restore: plan, memoryFile: { path: join(this.dir, RAM_FILE), share: false } },
    );
  }

  #consoleClock(): (vm: RunningVm, signal?: AbortSignal) => Promise<void> {
    return this.info.clockHelper ? helperClock : dateClock;
  }

  #clockFix(): ((vm: RunningVm, signal?: AbortSignal) => Promise<void>) | undefined {
    if (this.#clock) return this.#clock;
    if (this.info.clock === "console") return this.#consoleClock();
    if (this.info.clock === "custom") {
      throw new TemplateError("TEMPLATE_CLOCK", "this template was made with a clock function, which this call lacks", {
        advice: "get the template with the same template(..., { clock }) call before starting clones",
      });
    }
    return undefined;
  }
}
