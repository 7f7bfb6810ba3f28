#!/usr/bin/env -S npx tsx
/**
 * Lab: "Creating a disk image based on a base image" — two qcow2 overlays over
 * debian-11.qcow2, two VMs at once, 50 MB written in the first; what changed where?
 * @module
 */
import { join } from "node:path";
import { image, vm } from "../sdk/mod.ts";
import { bootGuest } from "./lib/guest.ts";
import { sha256File } from "./lib/hash.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { formatBytes, Reporter } from "./lib/reporter.ts";
import { Resources } from "./lib/resources.ts";
import { guestRun } from "./lib/shell.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";
import { type ChainEntry, chainOf, domainDisk, hostDisks, libvirtHost, type RanOnLibvirt } from "./lib/libvirt.ts";
import type { LibvirtHost } from "../sdk/libvirt/mod.ts";

/** One layer of a backing chain. */
export type { ChainEntry } from "./lib/libvirt.ts";

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
  /** Set when the VMs ran as libvirt domains (`--on URI`): where, and the base volume on a remote host. */
  readonly libvirt?: RanOnLibvirt & {
    /** The base as a volume of qemukit's pool (remote hosts): uploaded now, or found by its sha256. */
    readonly baseVolume?: { readonly name: string; readonly path: string; readonly uploaded: boolean };
  };
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
  libvirt: true,
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
  const host = libvirtHost(options);
  if (host) return runOnLibvirt(options, host);
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

  return observations(
    { created, booted, after, baseDuBefore, baseDuAfter, baseBefore, baseAfter, concurrent },
    {
      backingChain: chainOf(chain),
      guest: guest.label,
    },
  );
}

/**
 * The same exercise with both VMs as libvirt domains on `host`, their disks where they run:
 * on a remote host the base is a volume of qemukit's pool (uploaded once, found again by
 * its sha256) and each overlay a volume over it, made by libvirt (`vol-create-as
 * --backing-vol`) as the VM starts; sizes and the chain come from libvirt (`vol-dumpxml`),
 * and the base's bytes from `vol-download`. On a local URI the disks are files here, as
 * in a direct start. The VMs start paused, so "created" is measured before the guests run.
 */
async function runOnLibvirt(options: RecipeOptions, host: LibvirtHost): Promise<OverlaysObservations> {
  const r = options.reporter ?? new Reporter();
  await using res = new Resources();
  r.note(`running on ${host.remote ? "remote" : "local"} libvirt: ${host.uri}`);
  const guest = await r.step(
    "find the guest",
    () => bootGuest(options, false),
    (g) => g.label,
  );
  const work = await res.tempDir("overlays-");
  const disks = hostDisks(host, work);
  let baseVolume: { name: string; path: string; uploaded: boolean } | undefined;
  let base = guest.base!;
  if (host.remote) {
    baseVolume = await r.step(
      "put the base on the host: virsh vol-upload once, found again by its sha256",
      async () => host.uploadBase(guest.base!, (await image.info(guest.base!)).format === "raw" ? "raw" : "qcow2"),
      (v) => `${v.name} (${v.uploaded ? "uploaded now" : "already there"})`,
    );
    base = baseVolume.path;
  }
  const baseBefore = await r.step(
    host.remote ? "sha256 of every byte of the base volume (virsh vol-download)" : "sha256 of every byte of the base",
    () => disks.sha256(base),
    (h) => `${formatBytes(h.bytes)}, ${h.sha256.slice(0, 16)}…`,
  );
  const baseDuBefore = await disks.du(base);
  const names = [1, 2].map((n) => `lab-overlays-${n}-${process.pid}`);
  const [vm1, vm2] = await r.step(
    `start both VMs paused as libvirt domains; each gets an overlay over the base (${host.remote ? "vol-create-as --backing-vol" : "qemu-img create -b"})`,
    async () => {
      // #region libvirt-start
      // host = libvirt(options.on); the backend makes each VM's overlay where the VM runs
      const boot = async (name: string) =>
        res.vm(await guest.attach(vm().name(name).memory(512).smp(2)).start({ on: host, paused: true }));
      const [vm1, vm2] = await Promise.all(names.map(boot));
      // #endregion
      return [vm1!, vm2!] as const;
    },
    ([a, b]) => `domains ${a.name} and ${b.name}`,
  );
  // #region libvirt-disks
  const [sda1, sda2] = await Promise.all(names.map((n) => domainDisk(host, n, "hda"))); // virsh domblklist
  // #endregion
  r.note(`overlays on the host: ${sda1}, ${sda2}`);
  const size = async () => ({ o1: await disks.du(sda1!), o2: await disks.du(sda2!) });
  const created = await size();
  r.note(
    `du: sda-vm1 ${formatBytes(created.o1)}, sda-vm2 ${formatBytes(created.o2)}, base ${formatBytes(baseDuBefore)}`,
  );
  await r.step("resume both and wait for both shells", () =>
    Promise.all(
      [vm1, vm2].map(async (m) => {
        const ready = m.console.waitFor(guest.prompt, { timeout: 600_000 });
        await m.resume();
        await ready;
      }),
    ),
  );
  await guestRun(r, vm1.$`sync`);
  await guestRun(r, vm2.$`sync`);
  const booted = await size();
  r.note(`du after boot: sda-vm1 ${formatBytes(booted.o1)}, sda-vm2 ${formatBytes(booted.o2)}`);
  await guestRun(r, vm1.$`dd if=/dev/urandom of=/root/file50M bs=1M count=50 && sync`.timeout(120_000));
  await guestRun(r, vm2.$`sync`);
  const after = await size();
  r.note(`du after the write: sda-vm1 ${formatBytes(after.o1)}, sda-vm2 ${formatBytes(after.o2)}`);
  const concurrent = vm1.state !== "exited" && vm2.state !== "exited";
  // The overlays go with their VMs (qemukit removes what it made): read the chain first.
  const chain = await r.step(
    `backing chain of sda-vm1 on the host (${host.remote ? "virsh vol-dumpxml" : "qemu-img info --backing-chain"})`,
    () => disks.chain(sda1!),
    (c) => c.map((l) => l.path).join(" -> "),
  );
  await r.step(
    "stop both VMs",
    () => Promise.all([vm1.shutdown({ timeouts: { powerdown: 0 } }), vm2.shutdown({ timeouts: { powerdown: 0 } })]),
    (e) => e.map((x) => x.reason).join(", "),
  );
  const baseAfter = await r.step(
    host.remote ? "sha256 of the base volume again (virsh vol-download)" : "sha256 of the base again",
    () => disks.sha256(base),
    (h) => `${h.sha256.slice(0, 16)}…`,
  );
  const baseDuAfter = await disks.du(base);
  return observations(
    { created, booted, after, baseDuBefore, baseDuAfter, baseBefore, baseAfter, concurrent },
    {
      backingChain: chain,
      guest: guest.label,
      libvirt: { uri: host.uri, remote: host.remote, domains: names, ...(baseVolume ? { baseVolume } : {}) },
    },
  );
}

/** Two overlays' sizes per stage, measured the same way, and the base's hash and size around the run. */
interface Measured {
  readonly created: { readonly o1: number; readonly o2: number };
  readonly booted: { readonly o1: number; readonly o2: number };
  readonly after: { readonly o1: number; readonly o2: number };
  readonly baseDuBefore: number;
  readonly baseDuAfter: number;
  readonly baseBefore: { readonly sha256: string; readonly bytes: number };
  readonly baseAfter: { readonly sha256: string; readonly bytes: number };
  readonly concurrent: boolean;
}

/** The observations both paths (here and through libvirt) report, from what they measured. */
function observations(
  m: Measured,
  rest: Pick<OverlaysObservations, "backingChain" | "guest" | "libvirt">,
): OverlaysObservations {
  return {
    sizes: {
      overlay1: { created: m.created.o1, booted: m.booted.o1, afterWrite: m.after.o1 },
      overlay2: { created: m.created.o2, booted: m.booted.o2, afterWrite: m.after.o2 },
      base: { before: m.baseDuBefore, after: m.baseDuAfter },
    },
    overlay1Growth: m.after.o1 - m.created.o1,
    overlay2Growth: m.after.o2 - m.created.o2,
    writeGrowth: { overlay1: m.after.o1 - m.booted.o1, overlay2: m.after.o2 - m.booted.o2 },
    baseUnchanged: {
      unchanged: m.baseBefore.sha256 === m.baseAfter.sha256 && m.baseBefore.bytes === m.baseAfter.bytes,
      bytesCompared: m.baseAfter.bytes,
      sha256: m.baseAfter.sha256,
    },
    concurrent: m.concurrent,
    ...rest,
  };
}

/** One line for the lab's summary table. */
export function summarize(o: OverlaysObservations): string {
  return `sda-vm1 +${formatBytes(o.overlay1Growth)}, sda-vm2 +${formatBytes(o.overlay2Growth)}; base ${o.baseUnchanged.unchanged ? "unchanged" : "CHANGED"} (${formatBytes(o.baseUnchanged.bytesCompared)} compared); chain of ${o.backingChain.length}`;
}

export const recipe: Recipe<OverlaysObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
