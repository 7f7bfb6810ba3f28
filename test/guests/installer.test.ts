/**
 * The installer guest (slow): the ISO, its SHA512SUMS and detached signature
 * verify with the real gpgv and sha512sum, and the ISO boots from -cdrom to the
 * isolinux menu and then the installer's first screen, seen through QMP screendump.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installer } from "../../sdk/guests/installer.ts";
import type { InstallerGuest } from "../../sdk/guests/types.ts";
import { killAllSerialVms, qmpOnce, startSerialVm } from "../helpers/guests-qemu.ts";
import { readPpm, type Screen, screenDiff, screenStats } from "../helpers/guests-screen.ts";

let guest: InstallerGuest;
let work: string;

beforeAll(async () => {
  guest = await installer();
  work = await mkdtemp(join(tmpdir(), "qk-inst-"));
}, 600_000);
afterAll(async () => {
  await killAllSerialVms();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("installer guest", () => {
  it("ships an ISO whose SHA512SUMS verify and whose signature gpgv accepts", async () => {
    expect(guest.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    const gpgv = execFileSync(
      "gpgv",
      ["--status-fd", "1", "--keyring", guest.publicKey, guest.signature, guest.sha512sums],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    ).toString();
    expect(gpgv).toMatch(new RegExp(`VALIDSIG ${guest.fingerprint}`));
    expect(execFileSync("sha512sum", ["-c", basename(guest.sha512sums)], { cwd: guest.dir }).toString()).toContain(
      `${basename(guest.iso)}: OK`,
    );
    for (const f of [guest.iso, guest.sha512sums, guest.signature, guest.publicKey]) {
      expect((await stat(f)).mode & 0o777).toBe(0o444);
    }
  });

  it("a changed SHA512SUMS no longer verifies against the signature", async () => {
    const tampered = join(work, "SHA512SUMS");
    const text = await readFile(guest.sha512sums, "utf8");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      tampered,
      text.replace(/^./, (c) => (c === "0" ? "1" : "0")),
    );
    expect(() =>
      execFileSync("gpgv", ["--keyring", guest.publicKey, guest.signature, tampered], { stdio: "ignore" }),
    ).toThrow();
  });

  it("boots from -cdrom on an empty disk to the boot menu, then the installer's first screen", async () => {
    const disk = join(work, "target.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "4G"]);
    const qmp = join(work, "qmp.sock");
    startSerialVm([
      "-m",
      String(guest.memoryMiB),
      "-hda",
      disk,
      "-cdrom",
      guest.iso,
      "-boot",
      "d",
      "-qmp",
      `unix:${qmp},server=on,wait=off`,
    ]);
    let n = 0;
    const shot = async (): Promise<Screen> => {
      const f = join(work, `s${n++}.ppm`);
      for (let i = 0; ; i++) {
        try {
          await qmpOnce(qmp, "screendump", { filename: f });
          return await readPpm(f);
        } catch (e) {
          if (i > 50) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    const bios = await shot();
    const waitScreen = async (ok: (s: Screen) => boolean, ms: number): Promise<Screen> => {
      const end = Date.now() + ms;
      for (;;) {
        const s = await shot();
        if (ok(s)) return s;
        if (Date.now() > end)
          throw new Error(
            `screen condition not met within ${ms} ms (last ${s.width}x${s.height}, ${JSON.stringify(screenStats(s))})`,
          );
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    const t0 = Date.now();
    // The isolinux menu: a text-mode screen, not blank, different from the BIOS screen.
    const menu = await waitScreen(
      (s) => screenDiff(s, bios) > 0.02 && screenStats(s).colours >= 2 && screenStats(s).litShare > 0.2,
      120_000,
    );
    console.log(
      `installer: boot menu on screen after ${((Date.now() - t0) / 1000).toFixed(1)} s (${menu.width}x${menu.height}, ${JSON.stringify(screenStats(menu))})`,
    );
    // Then the installer kernel leaves text mode for a framebuffer and draws its first
    // dialog on a mostly blue screen.
    const graphical = (s: Screen) => !(s.width === 720 && s.height === 400) && s.width >= 640;
    const first = await waitScreen(
      (s) => graphical(s) && screenStats(s).litShare > 0.3 && screenStats(s).colours >= 3,
      300_000,
    );
    console.log(
      `installer: first screen after ${((Date.now() - t0) / 1000).toFixed(1)} s, ${JSON.stringify(screenStats(first))}`,
    );
    expect(screenDiff(first, menu)).toBe(1);
  }, 600_000);
});
