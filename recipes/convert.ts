#!/usr/bin/env -S npx tsx
/**
 * Lab: "Converting between virtual disk formats" — `qemu-img convert -O vdi` (and vmdk),
 * `qemu-img info` before and after, including the snapshot list.
 * @module
 */
import { join } from "node:path";
import { image, type ImageInfo } from "../sdk/mod.ts";
import { baseImage } from "./lib/guest.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { formatBytes, Reporter } from "./lib/reporter.ts";
import { Resources } from "./lib/resources.ts";
import type { ImageFacts } from "./lib/sizes.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";

/** What convert observes. */
export interface ConvertObservations {
  /** The qcow2 before conversion. */
  readonly before: ImageFacts;
  /** The converted images, by format. */
  readonly after: { readonly vdi: ImageFacts; readonly vmdk: ImageFacts };
  /** Snapshot tags per image: the qcow2's "new" snapshot does not survive conversion. */
  readonly snapshots: {
    readonly before: readonly string[];
    readonly vdi: readonly string[];
    readonly vmdk: readonly string[];
  };
  /** Guest-visible content identical after conversion (`qemu-img compare`). */
  readonly contentIdentical: { readonly vdi: boolean; readonly vmdk: boolean };
}

export const meta: RecipeMeta = {
  id: "convert",
  title: "Convert a qcow2 image to VDI and VMDK and compare qemu-img info",
  exercise: "Converting between virtual disk formats",
  labCommands: [
    "qemu-img convert -O vdi debian-11.qcow2 debian-11.vdi",
    "qemu-img info debian-11.qcow2",
    "qemu-img info debian-11.vdi",
  ],
  heavy: false,
};

function facts(info: ImageInfo): ImageFacts {
  return {
    format: info.format,
    virtualSize: Number(info.virtualSize),
    actualSize: Number(info.actualSize ?? 0n),
    clusterSize: info.clusterSize ?? null,
  };
}

/**
 * Makes a qcow2 like the lab's debian-11.qcow2 (a copy of the Debian guest's image with a
 * snapshot named "new"), converts it to VDI and VMDK and compares `info`.
 *
 * @example
 * ```ts
 * const { before, after, snapshots } = await run();
 * ```
 */
export async function run(options: RecipeOptions = {}): Promise<ConvertObservations> {
  const r = options.reporter ?? new Reporter();
  await using res = new Resources();
  const base = await r.step(
    "find the base image (the lab's debian-11.qcow2)",
    () => baseImage(options),
    (p) => p,
  );
  const work = await res.tempDir("convert-");
  const qcow2 = join(work, "debian-11.qcow2");
  const vdi = join(work, "debian-11.vdi");
  const vmdk = join(work, "debian-11.vmdk");

  // The base is never written: the lab's situation (a standalone qcow2 with a snapshot
  // "new") is made on a copy.
  await r.step(`a standalone copy of the base with a snapshot "new" (as in the lab's image)`, async () => {
    await image.convert(base, qcow2, { format: "qcow2" });
    await image.snapshot.create(qcow2, "new");
  });
  const before = await r.step(
    "qemu-img info debian-11.qcow2",
    () => image.info(qcow2),
    (i) => summary(facts(i), i.snapshots.length),
  );

  // #region convert
  await image.convert(qcow2, vdi, { format: "vdi" });
  await image.convert(qcow2, vmdk, { format: "vmdk" });
  const vdiInfo = await image.info(vdi);
  const vmdkInfo = await image.info(vmdk);
  // #endregion
  r.note(`converted: vdi ${summary(facts(vdiInfo), vdiInfo.snapshots.length)}`);
  r.note(`converted: vmdk ${summary(facts(vmdkInfo), vmdkInfo.snapshots.length)}`);
  const same = await r.step(
    "qemu-img compare: same guest-visible bytes?",
    async () => ({
      vdi: (await image.compare(qcow2, vdi)).identical,
      vmdk: (await image.compare(qcow2, vmdk)).identical,
    }),
    (c) => `vdi ${c.vdi ? "identical" : "DIFFERENT"}, vmdk ${c.vmdk ? "identical" : "DIFFERENT"}`,
  );

  const tags = (i: ImageInfo) => i.snapshots.map((s) => s.name);
  return {
    before: facts(before),
    after: { vdi: facts(vdiInfo), vmdk: facts(vmdkInfo) },
    snapshots: { before: tags(before), vdi: tags(vdiInfo), vmdk: tags(vmdkInfo) },
    contentIdentical: same,
  };
}

function summary(f: ImageFacts, snapshots: number): string {
  return `${f.format}, virtual ${formatBytes(f.virtualSize)}, on disk ${formatBytes(f.actualSize)}, cluster ${f.clusterSize ?? "-"}, ${snapshots} snapshot(s)`;
}

/** One line for the lab's summary table. */
export function summarize(o: ConvertObservations): string {
  const f = (x: ImageFacts) => `${x.format} ${formatBytes(x.actualSize)} (cluster ${x.clusterSize ?? "-"})`;
  return `${f(o.before)} -> ${f(o.after.vdi)}, ${f(o.after.vmdk)}; snapshots [${o.snapshots.before.join(",")}] -> vdi [${o.snapshots.vdi.join(",")}], vmdk [${o.snapshots.vmdk.join(",")}]`;
}

export const recipe: Recipe<ConvertObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
