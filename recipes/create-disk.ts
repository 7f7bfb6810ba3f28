#!/usr/bin/env -S npx tsx
/**
 * Lab: "Creating a new disk image" — `qemu-img create -f qcow2 virtualdisk.qcow 2G`, then
 * look at what was made.
 * @module
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { image } from "../sdk/mod.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { formatBytes, Reporter } from "./lib/reporter.ts";
import { Resources } from "./lib/resources.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";

/** What create-disk observes. */
export interface CreateDiskObservations {
  /** Size the guest sees, in bytes (2 GiB). */
  readonly virtualSize: number;
  /** Bytes the file really takes on the host: a new qcow2 is tiny. */
  readonly actualSize: number;
  readonly format: string;
  readonly clusterSize: number | null;
  /** The file's apparent length (`ls -l`), for comparison with actualSize (`du`). */
  readonly fileLength: number;
}

export const meta: RecipeMeta = {
  id: "create-disk",
  title: "Create a 2 GiB qcow2 disk image and inspect it",
  exercise: "Creating a new disk image",
  labCommands: ["qemu-img create -f qcow2 virtualdisk.qcow 2G", "qemu-img info virtualdisk.qcow"],
  heavy: false,
};

/**
 * Creates a 2G qcow2 in a temporary directory, inspects it, removes it.
 *
 * @example
 * ```ts
 * const { virtualSize, actualSize } = await run(); // 2147483648, ~200 KiB
 * ```
 */
export async function run(options: RecipeOptions = {}): Promise<CreateDiskObservations> {
  const r = options.reporter ?? new Reporter();
  await using res = new Resources();
  const work = await res.tempDir("create-disk-");
  const path = join(work, "virtualdisk.qcow2");

  await r.step("qemu-img create -f qcow2 virtualdisk.qcow2 2G", async () => {
    // #region create
    await image.create(path, "2G", { format: "qcow2" });
    // #endregion
  });
  const info = await r.step(
    "qemu-img info virtualdisk.qcow2",
    async () => {
      // #region info
      const info = await image.info(path, { format: "qcow2" });
      // #endregion
      return info;
    },
    (i) => `${i.format}, virtual ${formatBytes(Number(i.virtualSize))}, on disk ${formatBytes(Number(i.actualSize))}`,
  );
  const fileLength = (await stat(path)).size;
  return {
    virtualSize: Number(info.virtualSize),
    actualSize: Number(info.actualSize ?? 0n),
    format: info.format,
    clusterSize: info.clusterSize ?? null,
    fileLength,
  };
}

/** One line for the lab's summary table. */
export function summarize(o: CreateDiskObservations): string {
  return `${o.format}, virtual size ${formatBytes(o.virtualSize)}, ${formatBytes(o.actualSize)} on disk, cluster ${o.clusterSize}`;
}

export const recipe: Recipe<CreateDiskObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
