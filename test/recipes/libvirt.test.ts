/**
 * The lab's start-vm and overlays exercises through libvirt (`--on URI`), run the way users
 * run them (`npx tsx recipes/<id>.ts --on URI --json`) against a private libvirtd, locally
 * and over qemu+ssh through a private sshd on loopback. Nothing may be left in libvirt
 * afterwards: no domain, and no volume but the uploaded base (found again by checksum,
 * by design), which the test then deletes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LibvirtHost, libvirt } from "../../sdk/libvirt/mod.ts";
import { recipes } from "../../recipes/index.ts";
import {
  type PrivateLibvirtd,
  type PrivateSshd,
  startPrivateLibvirtd,
  startPrivateSshd,
} from "../helpers/libvirt-daemon.ts";
import { onlyJson, runRecipeTsx } from "../helpers/recipes-run.ts";
import { until } from "../helpers/until.ts";

let daemon: PrivateLibvirtd;
let sshd: PrivateSshd;
const uris: Record<string, () => string> = {
  local: () => daemon.uri,
  ssh: () => sshd.uriFor(daemon.socket),
};
const host = (kind: string): LibvirtHost => libvirt(uris[kind]!());

beforeAll(async () => {
  [daemon, sshd] = await Promise.all([startPrivateLibvirtd(), startPrivateSshd()]);
  // qemukit's pool in a directory both namespaces see (the private libvirtd has its own
  // /var/lib/libvirt; sshd and nc run outside it): the recipes find it by name.
  await libvirt(daemon.uri, { poolPath: daemon.poolDir }).ensurePool();
}, 240_000);

afterAll(async () => {
  if (daemon) {
    const h = host("local");
    expect(await h.domains()).toEqual([]);
    await h.deleteVolumes(await h.volumes());
    expect(await h.volumes()).toEqual([]);
  }
  await sshd?.stop();
  await daemon?.stop();
});

/** No domain is left, and no volume but uploaded bases. */
async function expectNothingLeft(h: LibvirtHost): Promise<void> {
  await until(async () => (await h.domains()).length === 0, 30_000, "no domains");
  expect((await h.volumes()).filter((v) => !v.startsWith("qk-base-"))).toEqual([]);
}

const MiB = 1024 * 1024;

describe.each(["local", "ssh"])("recipes on libvirt (%s)", (kind) => {
  it("start-vm --on: one more thread per vCPU, counted on the domain's host", async () => {
    const uri = uris[kind]!();
    const run = await runRecipeTsx("start-vm", ["--json", "--guest", "tiny", "--on", uri], 600_000);
    const o = onlyJson(run) as any;
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    expect(o.libvirt).toEqual({
      uri,
      remote: kind === "ssh",
      domains: [expect.stringMatching(/^lab-start-vm-2-\d+$/), expect.stringMatching(/^lab-start-vm-4-\d+$/)],
    });
    expect(o.vcpuThreads).toEqual({ "2": 2, "4": 4 });
    expect(o.threads["4"] - o.threads["2"] - (o.workerThreads["4"] - o.workerThreads["2"])).toBe(2);
    expect(o.otherThreads["2"]).toBe(o.otherThreads["4"]);
    expect(o.details["2"].names).toEqual(expect.arrayContaining(["CPU 0/TCG", "CPU 1/TCG"]));
    expect(o.details["2"].pid).not.toBe(o.details["4"].pid);
    expect(o.accel.chosen).toBe("tcg");
    expect(run.stderr).toContain(`running on ${kind === "ssh" ? "remote" : "local"} libvirt: ${uri}`);
    await expectNothingLeft(host(kind));
  }, 600_000);

  it("overlays --on: the overlay chain lives on the host; the base is unchanged there", async () => {
    const h = host(kind);
    const uri = uris[kind]!();
    const run = await runRecipeTsx("overlays", ["--json", "--on", uri], 1_500_000);
    const o = onlyJson(run) as any;
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    expect(o.libvirt.uri).toBe(uri);
    expect(o.libvirt.remote).toBe(kind === "ssh");
    expect(o.concurrent).toBe(true);
    // A fresh overlay is a few hundred KiB; 50 MB written grows only the first one by that.
    expect(o.sizes.overlay1.created).toBeLessThan(2 * MiB);
    expect(o.writeGrowth.overlay1).toBeGreaterThan(45 * MiB);
    expect(o.writeGrowth.overlay2).toBeLessThan(10 * MiB);
    expect(o.baseUnchanged.unchanged).toBe(true);
    expect(o.baseUnchanged.bytesCompared).toBeGreaterThan(50 * MiB);
    // Same bytes; a base uploaded moments before may still gain a filesystem block as it is
    // written back (measured: +4 KiB), so its allocation is compared loosely.
    expect(Math.abs(o.sizes.base.after - o.sizes.base.before)).toBeLessThan(64 * 1024);
    expect(o.backingChain).toHaveLength(2);
    const [top, bottom] = o.backingChain;
    expect(top.format).toBe("qcow2");
    expect(top.backingFile).toBe(bottom.path);
    expect(bottom.backingFile).toBeNull();
    if (kind === "ssh") {
      // Both layers are volumes of qemukit's pool on the host; the base is the uploaded one.
      expect(top.path.startsWith(`${daemon.poolDir}/`)).toBe(true);
      expect(bottom.path).toBe(o.libvirt.baseVolume.path);
      expect(o.libvirt.baseVolume.name).toMatch(/^qk-base-[0-9a-f]{32}\.qcow2$/);
    } else {
      expect(o.libvirt.baseVolume).toBeUndefined();
    }
    await expectNothingLeft(h);
  }, 1_500_000);
});

describe("recipes that cannot run on libvirt", () => {
  it("refuse --on before anything starts, with a typed error", async () => {
    const run = await runRecipeTsx("vnc", ["--json", "--guest", "tiny", "--on", daemon.uri]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/\[LIBVIRT_UNSUPPORTED\]: not supported on libvirt: the vnc recipe, because/);
    expect(await host("local").domains()).toEqual([]);
  }, 120_000);

  it("refuse on: when called from code too, before anything starts", async () => {
    for (const id of ["vnc", "add-disk", "create-disk"] as const) {
      await expect(recipes[id].run({ guest: "tiny", on: daemon.uri })).rejects.toMatchObject({
        code: "LIBVIRT_UNSUPPORTED",
        message: expect.stringContaining(`the ${id} recipe`),
      });
    }
    expect(await host("local").domains()).toEqual([]);
  });

  it("refuse a URI qemukit cannot use", async () => {
    const run = await runRecipeTsx("start-vm", ["--json", "--guest", "tiny", "--on", "xen:///system"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/\[LIBVIRT_CONNECT\]: unsupported libvirt transport xen:/);
  }, 120_000);
});
