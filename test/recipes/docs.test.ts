/**
 * The docs show the code that runs: every marked block equals its region in recipes/*.ts or
 * test/recipes/cheatsheet.test.ts, every region is shown somewhere, every recipe has a guide
 * with observed output, and the cheat sheet covers the lab's commands.
 * (`npx tsx test/helpers/recipes-docs.ts --write` refreshes the blocks.)
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recipeIds } from "../../recipes/index.ts";
import { allRegions, docBlocks, docFiles, observedBlocks, repoRoot } from "../helpers/recipes-docs.ts";

/** Keys the issue requires in each recipe's observations. */
const REQUIRED: Record<string, string[]> = {
  "check-host": ["cpuFlag", "kvmModules", "devKvm", "accel", "reason"],
  "start-vm": ["threads", "vcpuThreads", "explanation"],
  vnc: ["display", "port", "listeningPid", "rfbVersion", "screenshot"],
  "create-disk": ["virtualSize", "actualSize", "format"],
  "install-from-iso": ["checksum", "signature", "tamperedRejected", "installerReached", "screenshot"],
  "add-disk": ["sizeBefore", "sizeAfter", "partitions", "filesWritten"],
  overlays: ["overlay1Growth", "overlay2Growth", "baseUnchanged", "backingChain"],
  convert: ["before", "after", "snapshots"],
};

/** Every command the lab has the student type (from the lab text), in the words the cheat sheet must show. */
const LAB_COMMANDS = [
  "ssh -X",
  "xauth merge",
  "grep vmx /proc/cpuinfo",
  "apt install qemu-kvm",
  "lsmod \\| grep kvm",
  "ls -l /dev/kvm",
  "kvm -hda debian-11.qcow2 -m 512 -smp 2",
  "ps -efL \\| grep kvm",
  "CTRL+C",
  "-vnc :1",
  "--daemonize",
  "vncviewer",
  "listening TCP ports",
  "qemu-img create -f qcow2 virtualdisk.qcow 2G",
  "sha512sum -c --ignore-missing SHA512SUMS",
  "--receive-keys",
  "gpg --verify SHA512SUMS.sign",
  "-cdrom",
  "-hdb",
  "du -sh",
  "qemu-img create -f qcow2 -b debian-11.qcow2 sda-vm1.qcow2",
  "qemu-img convert -O vdi debian-11.qcow2 debian-11.vdi",
  "qemu-img info debian-11.qcow2",
];

describe("docs", () => {
  const regions = allRegions();

  it("every code block is the current text of its region", () => {
    let blocks = 0;
    for (const file of docFiles()) {
      for (const { key, shown } of docBlocks(readFileSync(file, "utf8"))) {
        blocks++;
        expect(regions.has(key), `${file}: region ${key} does not exist`).toBe(true);
        expect(shown, `${file}: block ${key} is stale; run npx tsx test/helpers/recipes-docs.ts --write`).toBe(
          regions.get(key),
        );
      }
    }
    expect(blocks).toBeGreaterThanOrEqual(regions.size);
  });

  it("every region is shown in some doc", () => {
    const shown = new Set(docFiles().flatMap((f) => docBlocks(readFileSync(f, "utf8")).map((b) => b.key)));
    expect([...regions.keys()].filter((k) => !shown.has(k))).toEqual([]);
  });

  it("every recipe has a guide with the lab's commands, its code and observed output with the issue's keys", () => {
    for (const id of recipeIds) {
      const file = join(repoRoot, "docs", "recipes", `${id}.md`);
      expect(existsSync(file), file).toBe(true);
      const text = readFileSync(file, "utf8");
      expect(
        docBlocks(text).some((b) => b.key.startsWith(`recipes/${id}.ts#`)),
        `${id}: no code block`,
      ).toBe(true);
      const observed = observedBlocks(text).find((b) => b.id === id);
      expect(observed, `${id}: no observed block`).toBeDefined();
      const obs = JSON.parse(observed!.json) as Record<string, unknown>;
      for (const key of REQUIRED[id]!) expect(obs, `${id}.md observed output lacks ${key}`).toHaveProperty(key);
    }
  });

  it("the cheat sheet covers every lab command, and its SDK column is code that runs", () => {
    const text = readFileSync(join(repoRoot, "docs", "cheatsheet.md"), "utf8");
    for (const c of LAB_COMMANDS) expect(text, `cheat sheet lacks ${c}`).toContain(c);
    const sdkCells = text
      .split("\n")
      .filter((l) => l.startsWith("| ") && !l.startsWith("| lab command"))
      .map((l) => l.split(" | ")[2] ?? "");
    const snippets = sdkCells.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
    expect(snippets.length).toBeGreaterThan(20);
    const code = [...regions.values()].join("\n");
    for (const s of snippets) expect(code, `cheat sheet snippet not in any region: ${s}`).toContain(s);
  });
});
