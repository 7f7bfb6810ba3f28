/**
 * Internal snapshots (qcow2): `qemu-img snapshot -c/-l/-a/-d`.
 * @module
 */
import { ImageError } from "./errors.ts";
import type { ImageFormat } from "./formats.ts";
import { info } from "./info.ts";
import type { SnapshotInfo } from "./info-types.ts";
import { imageOpts } from "./open-args.ts";
import { absPath, statImage } from "./paths.ts";
import { formatOf } from "./resolve-format.ts";
import { runQemuImg } from "./run.ts";

/** Options shared by the snapshot operations. */
export interface SnapshotOptions {
  /** The image's format (only qcow2 has internal snapshots). Detected when omitted. */
  readonly format?: ImageFormat;
}

async function prepare(path: string, options: SnapshotOptions): Promise<{ abs: string; format: ImageFormat }> {
  const abs = absPath(path);
  await statImage(abs, "image");
  const format = await formatOf(abs, options.format);
  if (format !== "qcow2") {
    throw new ImageError("IMAGE_FORMAT", `${path} is ${format}; only qcow2 images have internal snapshots`, {
      advice: "convert it to qcow2 first (image.convert), or take an overlay instead (image.overlay)",
      details: { path, format },
    });
  }
  return { abs, format };
}

function find(list: readonly SnapshotInfo[], name: string): SnapshotInfo | undefined {
  return list.find((s) => s.name === name) ?? list.find((s) => s.id === name);
}

function notFound(path: string, name: string, list: readonly SnapshotInfo[]): ImageError {
  return new ImageError("SNAPSHOT_NOT_FOUND", `${path} has no snapshot ${JSON.stringify(name)}`, {
    advice: list.length ? `existing snapshots: ${list.map((s) => s.name).join(", ")}` : "the image has no snapshots",
    details: { path, name },
  });
}

/**
 * Lists internal snapshots (read with a shared lock, so it works while a VM runs).
 *
 * @example
 * ```ts
 * (await image.snapshot.list("vm.qcow2", { format: "qcow2" })).map((s) => s.name);
 * ```
 */
export async function listSnapshots(path: string, options: SnapshotOptions = {}): Promise<readonly SnapshotInfo[]> {
  const { abs, format } = await prepare(path, options);
  return (await info(abs, { format })).snapshots;
}

/**
 * Takes an internal snapshot of the disk (the image must not be in use).
 *
 * @example
 * ```ts
 * await image.snapshot.create("vm.qcow2", "before-upgrade", { format: "qcow2" });
 * ```
 * @throws {ImageError} SNAPSHOT_EXISTS, IMAGE_LOCKED, IMAGE_FORMAT
 */
export async function createSnapshot(path: string, name: string, options: SnapshotOptions = {}): Promise<SnapshotInfo> {
  if (!name || /^\d+$/.test(name)) {
    throw new ImageError("IMAGE_INVALID_ARGUMENT", `invalid snapshot name ${JSON.stringify(name)}`, {
      advice: "use a non-empty name that is not all digits (digits are snapshot ids)",
    });
  }
  const { abs, format } = await prepare(path, options);
  const before = (await info(abs, { format })).snapshots;
  if (find(before, name)) {
    throw new ImageError("SNAPSHOT_EXISTS", `${path} already has a snapshot named ${JSON.stringify(name)}`, {
      advice: "pick another name, or delete the old one first (image.snapshot.delete)",
      details: { path, name },
    });
  }
  await runQemuImg(["snapshot", "-q", "-c", name, ...imageOpts(abs, format)], { op: "snapshot", path, format });
  const after = (await info(abs, { format })).snapshots;
  return find(after, name)!;
}

/** The snapshot `name` (a name or an id) refers to; SNAPSHOT_NOT_FOUND lists the ones there are. */
async function existing(path: string, name: string, options: SnapshotOptions) {
  const { abs, format } = await prepare(path, options);
  const list = (await info(abs, { format })).snapshots;
  const s = find(list, name);
  if (!s) throw notFound(path, name, list);
  return { abs, format, s };
}

/**
 * Reverts the disk to a snapshot (by name or id). Everything written since is lost.
 *
 * @example
 * ```ts
 * await image.snapshot.apply("vm.qcow2", "before-upgrade", { format: "qcow2" });
 * ```
 * @throws {ImageError} SNAPSHOT_NOT_FOUND, IMAGE_LOCKED
 */
export async function applySnapshot(path: string, name: string, options: SnapshotOptions = {}): Promise<void> {
  const { abs, format, s } = await existing(path, name, options);
  await runQemuImg(["snapshot", "-q", "-a", s.id, ...imageOpts(abs, format)], { op: "snapshot", path, format });
}

/**
 * Deletes a snapshot (by name or id).
 *
 * @example
 * ```ts
 * await image.snapshot.delete("vm.qcow2", "before-upgrade", { format: "qcow2" });
 * ```
 * @throws {ImageError} SNAPSHOT_NOT_FOUND, IMAGE_LOCKED
 */
export async function deleteSnapshot(path: string, name: string, options: SnapshotOptions = {}): Promise<void> {
  const { abs, format, s } = await existing(path, name, options);
  // qemu-img 7.2 deletes by name only (apply accepts ids too)
  await runQemuImg(["snapshot", "-q", "-d", s.name, ...imageOpts(abs, format)], { op: "snapshot", path, format });
}
