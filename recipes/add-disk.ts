#!/usr/bin/env -S npx tsx
/**
 * Lab: "Adding a new disk image" — boot debian-11.qcow2 with a second, new 1 GB qcow2 as
 * `-hdb`; in the guest make two 500 MB ext4 partitions, mount them, write 100 MB on each;
 * compare the image's size on the host before and after.
 * @module
 */
import { join } from "node:path";
import { image, vm } from "../sdk/mod.ts";
import { bootGuest } from "./lib/guest.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { formatBytes, Reporter } from "./lib/reporter.ts";
import { Resources } from "./lib/resources.ts";
import { guestRun, parseProcPartitions } from "./lib/shell.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";

/** A partition as the guest sees it. */
export interface GuestPartition {
  readonly name: string;
  readonly bytes: number;
  readonly fstype: string | null;
  readonly mountpoint: string | null;
}

/** What add-disk observes. */
export interface AddDiskObservations {
  /** Bytes the new 1 GB qcow2 takes on the host (`du`) before the guest writes to it. */
  readonly sizeBefore: number;
  /** The same after partitioning, formatting and writing 2 x 100 MB (guest synced). */
  readonly sizeAfter: number;
  /** After the VM stopped. */
  readonly sizeAfterShutdown: number;
  /** Virtual size of the new image (1 GiB): the file grows on demand, never beyond it. */
  readonly virtualSize: number;
  /** The new disk's name in the guest (e.g. `sdb`). */
  readonly guestDisk: string;
  /** The disk and its partitions as the guest sees them. */
  readonly partitions: readonly GuestPartition[];
  /** Files written in the guest, with their sizes as `ls` reports them. */
  readonly filesWritten: readonly { readonly path: string; readonly bytes: number }[];
  readonly guest: string;
}

export const meta: RecipeMeta = {
  id: "add-disk",
  title: "Attach a second 1 GB disk (-hdb), partition, format and fill it in the guest",
  exercise: "Adding a new disk image",
  labCommands: [
    "qemu-img create -f qcow2 image-name.qcow2 1G",
    "kvm -hda debian-11.qcow2 -hdb image-name.qcow2 -m 512 -smp 2",
    "du -sh image-name.qcow2",
  ],
  heavy: true,
};

const GiB = 1024 ** 3;

/**
 * Runs the exercise on the Debian guest (or `options.image`) through the serial console.
 *
 * @example
 * ```ts
 * const { sizeBefore, sizeAfter, partitions } = await run();
 * ```
 */
export async function run(options: RecipeOptions = {}): Promise<AddDiskObservations> {
  const r = options.reporter ?? new Reporter();
  await using res = new Resources();
  const guest = await r.step(
    "find the guest",
    () => bootGuest(options),
    (g) => g.label,
  );
  const work = await res.tempDir("add-disk-");
  const disk = join(work, "image-name.qcow2");

  // #region create
  await image.create(disk, "1G", { format: "qcow2" });
  const sizeBefore = (await image.du(disk)).bytes;
  // #endregion
  r.note(`du image-name.qcow2: ${formatBytes(Number(sizeBefore))}`);

  const m = await r.step(
    "boot: -hda (overlay over the base) -hdb image-name.qcow2 -m 512 -smp 2, wait for the shell",
    async () => {
      // #region boot
      const builder = guest.attach(vm().name(`lab-add-disk-${process.pid}`).memory(512).smp(2)).hdb(disk);
      const m = res.vm(await builder.start());
      await m.console.waitFor(guest.prompt, { timeout: 600_000 });
      // #endregion
      return m;
    },
    (m) => `pid ${m.pid}, accel ${m.accel.chosen}`,
  );
  r.note(m.argv.join(" "));

  // Find the new disk by its size rather than assuming a name (sdb on IDE, vdb on virtio).
  const before = parseProcPartitions(await guestRun(r, m.$`cat /proc/partitions`));
  const newDisk = before.find((p) => p.bytes === GiB && !/\d$/.test(p.name));
  if (!newDisk) throw new Error(`the guest shows no 1 GiB disk in /proc/partitions: ${JSON.stringify(before)}`);
  const dev = `/dev/${newDisk.name}`;

  // #region guest
  const sh = m.$({ timeout: 120_000 });
  const [part1, part2] = [`${dev}1`, `${dev}2`];
  await guestRun(r, sh`printf 'label: dos\\n,500M,L\\n,500M,L\\n' | sfdisk -q ${dev}`);
  await guestRun(r, sh`mkfs.ext4 -q -F ${part1} && mkfs.ext4 -q -F ${part2}`);
  await guestRun(r, sh`mkdir -p /mnt/part1 /mnt/part2 && mount ${part1} /mnt/part1 && mount ${part2} /mnt/part2`);
  await guestRun(r, sh`dd if=/dev/zero of=/mnt/part1/file100M bs=1M count=100 && sync`);
  await guestRun(r, sh`dd if=/dev/zero of=/mnt/part2/file100M bs=1M count=100 && sync`);
  // #endregion

  const partitions = parseLsblk(await guestRun(r, sh`lsblk -b -n -P -o NAME,SIZE,FSTYPE,MOUNTPOINT ${dev}`));
  const filesWritten = (await guestRun(r, sh`stat -c '%n %s' /mnt/part1/file100M /mnt/part2/file100M`))
    .trim()
    .split("\n")
    .map((l) => l.trim().split(" "))
    .map(([path, bytes]) => ({ path: path!, bytes: Number(bytes) }));
  // #region measure
  const sizeAfter = (await image.du(disk)).bytes;
  // #endregion
  r.note(`du image-name.qcow2 with the VM running: ${formatBytes(Number(sizeAfter))}`);
  await guestRun(r, sh`umount /mnt/part1 /mnt/part2`);
  // Unmounted and synced: nothing is lost by skipping the ACPI power-off (slow under TCG).
  await r.step(
    "stop the VM",
    () => m.shutdown({ timeouts: { powerdown: 0 } }),
    (e) => e.reason,
  );
  const sizeAfterShutdown = (await image.du(disk)).bytes;
  const info = await image.info(disk, { format: "qcow2" });
  r.note(
    `du image-name.qcow2 after shutdown: ${formatBytes(Number(sizeAfterShutdown))} (virtual ${formatBytes(Number(info.virtualSize))})`,
  );

  return {
    sizeBefore: Number(sizeBefore),
    sizeAfter: Number(sizeAfter),
    sizeAfterShutdown: Number(sizeAfterShutdown),
    virtualSize: Number(info.virtualSize),
    guestDisk: newDisk.name,
    partitions,
    filesWritten,
    guest: guest.label,
  };
}

/** `lsblk -P` lines (`NAME="sdb1" SIZE="524288000" ...`) as records. */
export function parseLsblk(text: string): GuestPartition[] {
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const kv = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return {
        name: kv["NAME"] ?? "",
        bytes: Number(kv["SIZE"]),
        fstype: kv["FSTYPE"] || null,
        mountpoint: kv["MOUNTPOINT"] || null,
      };
    });
}

/** One line for the lab's summary table. */
export function summarize(o: AddDiskObservations): string {
  const parts = o.partitions
    .filter((p) => p.name !== o.guestDisk)
    .map((p) => `${p.name} ${formatBytes(p.bytes)} ${p.fstype ?? "?"}`)
    .join(", ");
  return `du ${formatBytes(o.sizeBefore)} -> ${formatBytes(o.sizeAfter)} after 2 x 100 MB; ${parts}`;
}

export const recipe: Recipe<AddDiskObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
