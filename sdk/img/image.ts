/**
 * The `image` namespace: every qemu-img operation in one object, as used in scripts
 * and the REPL (`image.create`, `image.info`, `image.snapshot.list`, ...).
 * @module
 */
import { check } from "./check.ts";
import { commit } from "./commit.ts";
import { compare } from "./compare.ts";
import { convert } from "./convert.ts";
import { create } from "./create.ts";
import { detectFormat } from "./detect.ts";
import { du } from "./du.ts";
import { info } from "./info.ts";
import { map } from "./map.ts";
import { measure } from "./measure.ts";
import { overlay } from "./overlay.ts";
import { rebase } from "./rebase.ts";
import { resize } from "./resize.ts";
import { applySnapshot, createSnapshot, deleteSnapshot, listSnapshots } from "./snapshot.ts";

/**
 * Disk image operations.
 *
 * @example
 * ```ts
 * import { image } from "qemukit";
 * await image.create("data.qcow2", "10G");
 * await image.overlay("debian-12.qcow2", "web1.qcow2", { baseFormat: "qcow2" });
 * const i = await image.info("web1.qcow2", { format: "qcow2", backingChain: true });
 * await image.convert("web1.qcow2", "web1.vdi", { format: "vdi", sourceFormat: "qcow2" });
 * await image.snapshot.create("data.qcow2", "clean", { format: "qcow2" });
 * ```
 */
export const image = Object.freeze({
  create,
  overlay,
  info,
  convert,
  detectFormat,
  snapshot: Object.freeze({
    create: createSnapshot,
    list: listSnapshots,
    apply: applySnapshot,
    delete: deleteSnapshot,
  }),
  resize,
  check,
  commit,
  rebase,
  measure,
  map,
  du,
  compare,
});
