#!/usr/bin/env -S npx tsx
/**
 * Lab: "Creating a disk image based on a base image" — two qcow2 overlays over
 * debian-11.qcow2, two VMs at once, 50 MB written in the first; what changed where?
 * @module
 */
import { join } from "node:path";
import { image, vm, type ImageInfo } from "../sdk/mod.ts";
import { bootGuest } from "./lib/guest.ts";
import { sha256File } from "./lib/hash.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { formatBytes, Reporter } from "./lib/reporter.ts";
import { Resources } from "./lib/resources.ts";
import { guestRun } from "./lib/shell.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";

/** One layer of a backing chain. */
export interface ChainEntry {
  readonly path: string;
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize: number;
  readonly backingFile: string | null;
  readonly backingFormat: string | null;
}

/** What overlays observes. */
export interface OverlaysObservations {
  /** Bytes each overlay takes on the host: fresh, after boot, after the 50 MB write. */
  readonly sizes: {
    readonly overlay1: { readonly created: number; readonly booted: number; readonly afterWrite: number };
    readonly overlay2: { readonly created: number; readonly booted: number; readonly afterWrite: number };
    readonly base: { readonly before: number; readonly after: number };
  };
  /** Growth of sda-vm1.qcow2 from creation to after the write (boot writes + 50 MB). */
  readonly overlay1Growth: number;
  /** Growth of sda-vm2.qcow2 over the same time (boot writes only). */
  readonly overlay2Growth: number;
  /** Growth caused by the write alone (after minus booted), per overlay. */
  readonly writeGrowth: { readonly overlay1: number; readonly overlay2: number };
  /** The base's bytes before and after, compared by sha256 over every byte. */
  readonly baseUnchanged: { readonly unchanged: boolean; readonly bytesCompared: number; readonly sha256: string };
  /** The two VMs ran at the same time (their lifetimes overlapped). */
  readonly concurrent: boolean;
  /** `qemu-img info --backing-chain sda-vm1.qcow2`. */
  readonly backingChain: readonly ChainEntry[];
  readonly guest: string;
}

export const meta: RecipeMeta = {
  id: "overlays",
  title: "Two copy-on-write overlays on one base, two VMs at once, 50 MB written in one",
  exercise: "Creating a disk image based on a base image",
  labCommands: [
    "qemu-img create -f qcow2 -b debian-11.qcow2 sda-vm1.qcow2",
    "qemu-img create -f qcow2 -b debian-11.qcow2 sda-vm2.qcow2",
    "du -sh sda-vm1.qcow2",
    "kvm -hda sda-vm1.qcow2 -m 512 -smp 2 & kvm -hda sda-vm2.qcow2 -m 512 -smp 2",
  ],
  heavy: true,
};

/**
 * Runs the exercise; both VMs boot in parallel.
 *
 * @example
 * ```ts
 * const { overlay1Growth, overlay2Growth, baseUnchanged } = await run();
 * ```
 */
export async function run(options: RecipeOptions = {}): Promise<OverlaysObservations> {
  const r = options.reporter ?? new Reporter();
  await using res = new Resources();
  const guest = await r.step(
    "find the guest",
    () => bootGuest(options, false),
    (g) => g.label,
  );
  const base = guest.base!;
  const work = await res.tempDir("overlays-");
  const sda1 = join(work, "sda-vm1.qcow2");
  const sda2 = join(work, "sda-vm2.qcow2");

  const baseBefore = await r.step(
    "sha256 of every byte of the base",
    () => sha256File(base),
    (h) => `${formatBytes(h.bytes)}, ${h.sha256.slice(0, 16)}…`,
  );
  const baseDuBefore = Number((await image.du(base)).bytes);
  await r.step("qemu-img create -f qcow2 -b debian-11.qcow2 -F qcow2 sda-vm1.qcow2 (and sda-vm2)", async () => {
    // #region overlays
    await image.overlay(base, sda1);
    await image.overlay(base, sda2);
    // #endregion
  });
  const created = { o1: Number((await image.du(sda1)).bytes), o2: Number((await image.du(sda2)).bytes) };
  r.note(
    `du: sda-vm1 ${formatBytes(created.o1)}, sda-vm2 ${formatBytes(created.o2)}, base ${formatBytes(baseDuBefore)}`,
  );

  const [vm1, vm2] = await r.step(
    "start both VMs at once and wait for both shells",
    async () => {
      // #region start-both
      const boot = async (disk: string, n: number) => {
        const m = res.vm(await vm().name(`lab-overlays-${n}-${process.pid}`).memory(512).smp(2).hda(disk).start());
        await m.console.waitFor(guest.prompt, { timeout: 600_000 });
        return m;
      };
      const [vm1, vm2] = await Promise.all([boot(sda1, 1), boot(sda2, 2)]);
      // #endregion
      return [vm1, vm2] as const;
    },
    ([a, b]) => `pids ${a.pid} and ${b.pid}`,
  );
  r.note(vm1.argv.join(" "));
  // Let the guests' first writes land, so the next sizes show the 50 MB write alone.
  await guestRun(r, vm1.$`sync`);
  await guestRun(r, vm2.$`sync`);
  const booted = { o1: Number((await image.du(sda1)).bytes), o2: Number((await image.du(sda2)).bytes) };
  r.note(`du after boot: sda-vm1 ${formatBytes(booted.o1)}, sda-vm2 ${formatBytes(booted.o2)}`);

  // #region write
  await guestRun(r, vm1.$`dd if=/dev/urandom of=/root/file50M bs=1M count=50 && sync`.timeout(120_000));
  // #endregion
  await guestRun(r, vm2.$`sync`);
  const after = { o1: Number((await image.du(sda1)).bytes), o2: Number((await image.du(sda2)).bytes) };
  r.note(`du after the write: sda-vm1 ${formatBytes(after.o1)}, sda-vm2 ${formatBytes(after.o2)}`);
  const concurrent = vm1.state !== "exited" && vm2.state !== "exited";

  await r.step(
    "stop both VMs",
    () => Promise.all([vm1.shutdown({ timeouts: { powerdown: 0 } }), vm2.shutdown({ timeouts: { powerdown: 0 } })]),
    (e) => e.map((x) => x.reason).join(", "),
  );
  // #region chain
  const chain = await image.info(sda1, { format: "qcow2", backingChain: true });
  // #endregion
  const baseAfter = await r.step(
    "sha256 of the base again",
    () => sha256File(base),
    (h) => `${h.sha256.slice(0, 16)}…`,
  );
  const baseDuAfter = Number((await image.du(base)).bytes);

  return {
    sizes: {
      overlay1: { created: created.o1, booted: booted.o1, afterWrite: after.o1 },
      overlay2: { created: created.o2, booted: booted.o2, afterWrite: after.o2 },
      base: { before: baseDuBefore, after: baseDuAfter },
    },
    overlay1Growth: after.o1 - created.o1,
    overlay2Growth: after.o2 - created.o2,
    writeGrowth: { overlay1: after.o1 - booted.o1, overlay2: after.o2 - booted.o2 },
    baseUnchanged: {
      unchanged: baseBefore.sha256 === baseAfter.sha256 && baseBefore.bytes === baseAfter.bytes,
      bytesCompared: baseAfter.bytes,
      sha256: baseAfter.sha256,
    },
    concurrent,
    backingChain: toChain(chain),
    guest: guest.label,
  };
}

/** The chain as plain entries, overlay first. */
function toChain(info: ImageInfo): ChainEntry[] {
  const out: ChainEntry[] = [];
  for (let layer: ImageInfo | undefined = info; layer; layer = layer.backing) {
    out.push({
      path: layer.filename,
      format: layer.format,
      virtualSize: Number(layer.virtualSize),
      actualSize: Number(layer.actualSize ?? 0n),
      backingFile: layer.backingFilename ?? null,
      backingFormat: layer.backingFilenameFormat ?? null,
    });
  }
  return out;
}

/** One line for the lab's summary table. */
export function summarize(o: OverlaysObservations): string {
  return `sda-vm1 +${formatBytes(o.overlay1Growth)}, sda-vm2 +${formatBytes(o.overlay2Growth)}; base ${o.baseUnchanged.unchanged ? "unchanged" : "CHANGED"} (${formatBytes(o.baseUnchanged.bytesCompared)} compared); chain of ${o.backingChain.length}`;
}

export const recipe: Recipe<OverlaysObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
