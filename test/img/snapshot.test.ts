import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { image } from "../../sdk/img/mod.ts";
import { imgTempDir, makeQcow2, qemuImg, qemuIo } from "../helpers/img-fixtures.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = imgTempDir()));
afterEach(() => cleanup());

describe("image.snapshot", () => {
  it("create, list, apply (data comes back), delete; paths with commas work", async () => {
    const p = makeQcow2(join(dir, "vm,1 disk.qcow2"), "8M", { byte: 0xaa, length: "64k" });
    const s = await image.snapshot.create(p, "clean", { format: "qcow2" });
    expect(s).toMatchObject({ id: "1", name: "clean", vmStateSize: 0 });
    expect(Math.abs(s.date.getTime() - Date.now())).toBeLessThan(60_000);
    qemuIo(p, "qcow2", "write -P 0xbb 0 64k");
    await image.snapshot.create(p, "dirty", { format: "qcow2" });
    expect((await image.snapshot.list(p, { format: "qcow2" })).map((x) => x.name)).toEqual(["clean", "dirty"]);
    expect(qemuImg("snapshot", "-l", p)).toMatch(/clean[\s\S]*dirty/);
    await image.snapshot.apply(p, "clean", { format: "qcow2" });
    expect(qemuIo(p, "qcow2", "read -P 0xaa 0 64k")).toMatch(/read 65536/);
    await image.snapshot.delete(p, "1", { format: "qcow2" }); // by id
    expect((await image.snapshot.list(p)).map((x) => x.name)).toEqual(["dirty"]);
  });

  it("SNAPSHOT_EXISTS, SNAPSHOT_NOT_FOUND, IMAGE_FORMAT for raw, bad names", async () => {
    const p = makeQcow2(join(dir, "d.qcow2"), "8M");
    await image.snapshot.create(p, "a", { format: "qcow2" });
    await expect(image.snapshot.create(p, "a", { format: "qcow2" })).rejects.toMatchObject({ code: "SNAPSHOT_EXISTS" });
    const err = await image.snapshot.apply(p, "nope", { format: "qcow2" }).catch((e) => e);
    expect(err.code).toBe("SNAPSHOT_NOT_FOUND");
    expect(err.advice).toMatch(/existing snapshots: a/);
    await expect(image.snapshot.delete(p, "nope", { format: "qcow2" })).rejects.toMatchObject({
      code: "SNAPSHOT_NOT_FOUND",
    });
    await expect(image.snapshot.create(p, "123", { format: "qcow2" })).rejects.toMatchObject({
      code: "IMAGE_INVALID_ARGUMENT",
    });
    qemuImg("create", "-q", "-f", "raw", join(dir, "r.img"), "1M");
    await expect(image.snapshot.create(join(dir, "r.img"), "x", { format: "raw" })).rejects.toMatchObject({
      code: "IMAGE_FORMAT",
    });
    // told "qcow2" for a raw file: the format is enforced, not probed
    await expect(image.snapshot.list(join(dir, "r.img"), { format: "qcow2" })).rejects.toMatchObject({
      code: "IMAGE_FORMAT",
    });
  });
});
