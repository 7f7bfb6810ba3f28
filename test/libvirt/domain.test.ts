// The libvirt compiler: every builder feature maps to domain XML that libvirt's own schema
// accepts (virt-xml-validate), or is refused before anything starts with
// "not supported on libvirt: X, because Y".
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileDomain, LIBVIRT_REFUSALS, LibvirtError } from "../../sdk/libvirt/mod.ts";
import { overlay, VmBuilder, vm } from "../../sdk/mod.ts";
import { exec } from "../../sdk/util/exec.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "qk-domxml-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function validate(xml: string): Promise<void> {
  const file = join(dir, `d${n++}.xml`);
  await writeFile(file, xml);
  const r = await exec(["virt-xml-validate", file, "domain"], { reject: false });
  expect(r.exitCode, `${r.stdout}${r.stderr}\n${xml}`).toBe(0);
}

type Row =
  | { method: string; build: (b: VmBuilder) => VmBuilder; maps: (string | RegExp)[] }
  | { method: string; build: (b: VmBuilder) => VmBuilder; refuses: string };

// One row (at least) per builder method; "maps" rows list what must appear in the XML.
const base = vm().name("t").accel("tcg");
const ROWS: Row[] = [
  { method: "name", build: (b) => b.name("web-1"), maps: ["<name>web-1</name>"] },
  { method: "memory", build: (b) => b.memory("1G"), maps: ['<memory unit="MiB">1024</memory>'] },
  { method: "smp", build: (b) => b.smp(2), maps: ["<vcpu>2</vcpu>"] },
  {
    method: "smp",
    build: (b) => b.smp({ sockets: 1, cores: 2, threads: 2 }),
    maps: ["<vcpu>4</vcpu>", '<topology sockets="1" dies="1" cores="2" threads="2"/>'],
  },
  { method: "accel", build: (b) => b.accel("tcg"), maps: ['<domain type="qemu"'] },
  { method: "accel", build: (b) => b.accel("kvm"), maps: ['<domain type="kvm"'] },
  { method: "accel", build: (b) => b.accel(["kvm", "tcg"]), refuses: "a fallback list" },
  { method: "machine", build: (b) => b.machine("q35"), maps: ['machine="q35"'] },
  { method: "machine", build: (b) => b.machine("microvm"), refuses: 'machine("microvm")' },
  {
    method: "cpu",
    build: (b) => b.cpu("qemu64,+ssse3,-sse4.2"),
    maps: [
      '<model fallback="forbid">qemu64</model>',
      '<feature policy="require" name="ssse3"/>',
      '<feature policy="disable" name="sse4.2"/>',
    ],
  },
  { method: "cpu", build: (b) => b.cpu("max"), maps: ['<cpu mode="maximum"'] },
  { method: "cpu", build: (b) => b.cpu("qemu64,level=5"), refuses: "QEMU-only options" },
  {
    method: "disk",
    build: (b) => b.disk({ path: "/img/a b,c.qcow2", cache: "none", aio: "native" }),
    maps: [
      '<driver name="qemu" type="qcow2" cache="none" io="native"/>',
      '<source file="/img/a b,c.qcow2"/>',
      '<target dev="vda" bus="virtio"/>',
    ],
  },
  {
    method: "disk",
    build: (b) => b.disk({ path: "/img/d.raw", format: "raw", interface: "scsi", readOnly: true, bootIndex: 0 }),
    maps: ['<target dev="sda" bus="scsi"/>', "<readonly/>", '<boot order="1"/>'],
  },
  {
    method: "disk",
    build: (b) => b.disk(overlay("/img/base.qcow2")),
    maps: ['<source file="/tmp/qemukit/t/disk0.qcow2"/>'],
  },
  {
    method: "disk",
    build: (b) => b.machine("q35").disk({ path: "/img/a.qcow2", interface: "ide" }),
    refuses: 'on machine("q35")',
  },
  { method: "hda", build: (b) => b.hda("/img/a.qcow2"), maps: ['<target dev="hda" bus="ide"/>'] },
  { method: "hdb", build: (b) => b.hdb("/img/b.qcow2"), maps: ['<target dev="hdb" bus="ide"/>'] },
  { method: "hdc", build: (b) => b.hdc("/img/c.qcow2"), maps: ['<target dev="hdc" bus="ide"/>'] },
  { method: "hdd", build: (b) => b.hdd("/img/d.qcow2"), maps: ['<target dev="hdd" bus="ide"/>'] },
  {
    method: "cdrom",
    build: (b) => b.hda("/img/a.qcow2").cdrom("/iso/d.iso"),
    maps: ['<disk type="file" device="cdrom">', '<target dev="hdc" bus="ide"/>'],
  },
  {
    method: "boot",
    build: (b) => b.hda("/img/a.qcow2").cdrom("/iso/d.iso").boot("dc"),
    maps: ['<boot dev="cdrom"/>\n    <boot dev="hd"/>'],
  },
  { method: "boot", build: (b) => b.boot("a"), refuses: "boot() with letters" },
  {
    method: "boot",
    build: (b) => b.disk({ path: "/img/a.qcow2", bootIndex: 1 }).boot("c"),
    refuses: "boot() together with a disk's bootIndex",
  },
  {
    method: "kernel",
    build: (b) => b.kernel("/k/vmlinuz", { initrd: "/k/initrd", append: "console=ttyS0 a=<b>" }),
    maps: ["<kernel>/k/vmlinuz</kernel>", "<initrd>/k/initrd</initrd>", "<cmdline>console=ttyS0 a=&lt;b&gt;</cmdline>"],
  },
  { method: "display", build: (b) => b.display("none"), maps: ['<model type="vga"/>'] },
  { method: "display", build: (b) => b.display("gtk"), refuses: "display(" },
  {
    method: "vnc",
    build: (b) => b.vnc(3, { websocket: true }),
    maps: ['<graphics type="vnc" port="5903" autoport="no" websocket="5703" listen="127.0.0.1"/>'],
  },
  { method: "vnc", build: (b) => b.vnc("auto", { password: true }), maps: ['port="-1" autoport="yes"', "passwd="] },
  {
    method: "serial",
    build: (b) => b.serial("socket"),
    maps: ['<serial type="unix">', '<source mode="bind" path="/tmp/qemukit/t/console.sock"/>'],
  },
  { method: "serial", build: (b) => b.serial({ file: "/var/log/c.log" }), maps: ['<serial type="file">'] },
  { method: "serial", build: (b) => b.serial("none"), maps: [/^(?![\s\S]*<serial)/] },
  { method: "serial", build: (b) => b.serial("stdio"), refuses: 'serial("stdio")' },
  {
    method: "qmp",
    build: (b) => b.qmp(true),
    maps: ["socket,id=qkqmp,path=/tmp/qemukit/t/qmp.sock,server=on,wait=off"],
  },
  { method: "qmp", build: (b) => b.qmp(false), refuses: "qmp(false)" },
  { method: "agent", build: (b) => b.agent(), refuses: "agent()" },
  { method: "network", build: (b) => b.network("none"), maps: [/^(?![\s\S]*<interface)/] },
  {
    method: "network",
    build: (b) => b.network({ model: "virtio-net-pci" }),
    maps: ['<interface type="user">', '<model type="virtio"/>'],
  },
  {
    method: "forward",
    build: (b) => b.forward(2222, 22),
    maps: [
      '<qemu:arg value="user,id=qknet0,hostfwd=tcp:127.0.0.1:2222-:22"/>',
      '<qemu:arg value="e1000,netdev=qknet0"/>',
    ],
  },
  { method: "daemonize", build: (b) => b.daemonize(), maps: ["<name>t</name>"] },
  { method: "keep", build: (b) => b.keep(), maps: ["<name>t</name>"] },
  { method: "args", build: (b) => b.args("-device", "virtio-rng-pci"), maps: ['<qemu:arg value="virtio-rng-pci"/>'] },
];

/** Methods that describe no VM feature (output, start, templates, internals). */
const NOT_FEATURES = new Set([
  "template",
  "constructor",
  "with",
  "addDisk",
  "legacy",
  "compile",
  "toArgv",
  "toCommandLine",
  "toDomainXml",
  "start",
]);

describe("libvirt domain XML", () => {
  it("the table covers every builder method", () => {
    const methods = Object.getOwnPropertyNames(VmBuilder.prototype).filter((m) => !NOT_FEATURES.has(m));
    const covered = new Set(ROWS.map((r) => r.method));
    expect(methods.filter((m) => !covered.has(m))).toEqual([]);
  });

  it("every refusal in the table is exercised by a row", () => {
    const refused = ROWS.filter((r) => "refuses" in r).map((r) => (r as { refuses: string }).refuses);
    const local = LIBVIRT_REFUSALS.filter((r) => !/on a remote host/.test(r.feature));
    for (const r of local)
      expect(
        refused.some((f) => r.feature.includes(f)),
        r.feature,
      ).toBe(true);
  });

  for (const row of ROWS) {
    const label = "refuses" in row ? `refuses ${row.refuses}` : `maps ${row.maps.map(String).join(", ").slice(0, 70)}`;
    it(`${row.method}: ${label}`, async () => {
      const b = row.build(base);
      if ("refuses" in row) {
        let err: unknown;
        try {
          b.toDomainXml();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(LibvirtError);
        const e = err as LibvirtError;
        expect(e.code).toBe("LIBVIRT_UNSUPPORTED");
        expect(e.message).toMatch(/^not supported on libvirt: .+, because .+/);
        expect(e.message).toContain(row.refuses);
        expect(e.advice).toBeTruthy();
        return;
      }
      const xml = b.toDomainXml();
      for (const m of row.maps) {
        if (typeof m === "string") expect(xml).toContain(m);
        else expect(xml).toMatch(m);
      }
      await validate(xml);
    });
  }

  it("remote-only refusals: named overlay paths, writable files and serial log files", () => {
    const remote = { remote: true };
    for (const [b, feature] of [
      [base.disk(overlay("/b.qcow2", { path: "/o.qcow2" })), "overlay(base, { path })"],
      [base.disk("/img/a.qcow2"), "a writable disk(path)"],
      [base.serial({ file: "/c.log" }), "serial({ file })"],
    ] as const) {
      expect(() => compileDomain(b.spec, remote)).toThrow(feature);
      expect(() => compileDomain(b.spec)).not.toThrow();
    }
    expect(() => compileDomain(base.disk({ path: "/iso/a.iso", media: "cdrom" }).spec, remote)).not.toThrow();
  });

  it("a spread of whole specs validates, with the start-time context filled in", async () => {
    const specs = [
      vm().name("lab").memory(512).smp(2).hda("/img/debian-11.qcow2").vnc(1),
      vm().name("inst").hda("/img/virtualdisk.qcow").cdrom("/iso/netinst.iso").boot("dc").vnc("auto"),
      vm().name("k").kernel("/k/vmlinuz", { initrd: "/k/initrd.gz", append: "console=ttyS0" }).network("none"),
      vm()
        .name("many")
        .machine("q35")
        .disk(overlay("/b.qcow2"))
        .disk({ path: "/d.raw", format: "raw", interface: "scsi" })
        .forward("auto", 22),
    ];
    for (const b of specs) {
      const d = compileDomain(b.spec, {
        runDir: "/run/qk/x",
        disks: b.spec.disks.map((_, i) => ({ path: `/var/lib/libvirt/qemukit/v${i}.qcow2`, format: "qcow2" as const })),
        volumes: ["qk-x-disk0.qcow2"],
        autodestroy: true,
      });
      expect(d.qmpSocket).toBe("/run/qk/x/qmp.sock");
      expect(d.xml).toContain("<qemukit:volume>qk-x-disk0.qcow2</qemukit:volume>");
      expect(d.xml).toContain("<features>\n    <acpi/>");
      await validate(d.xml);
    }
  });

  it("XML special characters in names, paths and command lines are escaped", async () => {
    const xml = base.disk({ path: "/img/<a>&'b\".qcow2" }).kernel("/k", { append: `x="&"` }).toDomainXml();
    expect(xml).toContain("/img/&lt;a&gt;&amp;&apos;b&quot;.qcow2");
    await validate(xml);
  });
});
