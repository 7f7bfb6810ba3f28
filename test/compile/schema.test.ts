import { beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../helpers/spec-fixtures.ts";
import { deviceTypesOf, fetchQemuSchema, validateArgv, type QemuSchema } from "../helpers/spec-qemu-schema.ts";

const DIR = "/srv/qk-fixtures";
const compiled = FIXTURES.map((f) => ({
  name: f.name,
  argv: f.build(DIR).toArgv({ runDir: "/tmp/qk-schema", accel: ["tcg"] }),
}));
const NEGATIVE = [
  "-blockdev",
  "driver=qcow3,node-name=x,file.driver=file,file.filename=a",
  "-blockdev",
  "driver=qcow2,node-name=y,file.driver=file,file.filenam=a",
  "-blockdev",
  "driver=raw,node-name=z,read-only=maybe,file.driver=file,file.filename=a",
  "-device",
  "virtio-blk-pci,drive=nope",
  "-device",
  "virtio-blk-pcie,drive=x",
  "-device",
  "ide-hd,drive=x,bootindex=first",
  "-netdev",
  "user,id=n,hostfwd=tcp::1-:2,bogus=1",
  "-object",
  "memory-backend-ram,id=m,size=big",
];

describe("compiled options against the installed QEMU's own schema", () => {
  let schema: QemuSchema;
  beforeAll(async () => {
    schema = await fetchQemuSchema([...deviceTypesOf(compiled.map((c) => c.argv)), "virtio-blk-pcie", "ide-hd"]);
  });

  it.each(compiled)("$name: every -blockdev/-device/-netdev/-object is valid", ({ argv }) => {
    expect(argv.some((a) => ["-blockdev", "-device", "-netdev"].includes(a))).toBe(true);
    expect(validateArgv(schema, argv)).toEqual([]);
  });

  it("the validator rejects what QEMU would reject", () => {
    const errors = validateArgv(schema, ["qemu-system-x86_64", ...NEGATIVE]);
    const find = (s: string) => errors.filter((e) => e.includes(s));
    expect(find("qcow3").length).toBeGreaterThan(0);
    expect(find("filenam:").length + find("filenam ").length + find(".filenam").length).toBeGreaterThan(0);
    expect(find("maybe").length).toBeGreaterThan(0);
    expect(find("drive=nope").length).toBeGreaterThan(0);
    expect(find('no device type "virtio-blk-pcie"').length).toBe(1);
    expect(find("bootindex=first").length).toBeGreaterThan(0);
    expect(find("bogus").length).toBeGreaterThan(0);
    expect(find("size=big").length).toBeGreaterThan(0);
  });
});
