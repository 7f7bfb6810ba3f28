import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readHostFacts } from "../../sdk/host/facts.ts";
import { repoRoot } from "../helpers/cli.ts";
import { makeHostRoot, PVM_HOST, VMX_HOST } from "../helpers/host-fixtures.ts";

describe("readHostFacts on this machine", () => {
  it("agrees with /proc, /sys/module and /dev as grep and ls see them", async () => {
    const facts = await readHostFacts();
    const grep = (re: string) => {
      try {
        return execFileSync("grep", ["-Ewm1", re, "/proc/cpuinfo"], { encoding: "utf8" }) !== "";
      } catch {
        return false;
      }
    };
    expect(facts.cpu.virtFlag !== undefined).toBe(grep("vmx|svm"));
    expect(facts.cpu.underHypervisor).toBe(grep("hypervisor"));
    expect(facts.modules.map((m) => m.name)).toEqual(
      readdirSync("/sys/module")
        .filter((n) => /^kvm(_|$)/.test(n))
        .sort(),
    );
    expect(facts.devKvm.exists).toBe(existsSync("/dev/kvm"));
    expect(facts.bootId).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
  });
});

describe("readHostFacts on fixture roots", () => {
  it("reads a KVM-PVM host", async () => {
    using fx = makeHostRoot(PVM_HOST);
    const facts = await readHostFacts(fx.root);
    expect(facts.cpu.virtFlag).toBeUndefined();
    expect(facts.cpu.underHypervisor).toBe(true);
    expect(facts.modules).toEqual([{ name: "kvm" }, { name: "kvm_pvm" }]);
    expect(facts.devKvm).toMatchObject({
      exists: true,
      openable: true,
      mode: "-rw-rw----",
      owner: "root",
      group: "root",
    });
  });

  it("reads vmx, kvm_intel and its nested parameter", async () => {
    using fx = makeHostRoot(VMX_HOST);
    const facts = await readHostFacts(fx.root);
    expect(facts.cpu.virtFlag).toBe("vmx");
    expect(facts.modules).toEqual([{ name: "kvm" }, { name: "kvm_intel", nested: "Y" }]);
  });

  it("reports an absent /dev/kvm", async () => {
    using fx = makeHostRoot({ ...VMX_HOST, devKvmMode: undefined });
    expect((await readHostFacts(fx.root)).devKvm).toEqual({ path: join(fx.root, "dev/kvm"), exists: false });
  });

  it.runIf(process.getuid?.() === 0)("reports EACCES and group advice for a user outside the device's group", () => {
    using fx = makeHostRoot({ ...PVM_HOST, devKvmMode: 0o660 });
    chmodSync(fx.root, 0o755); // mkdtemp makes it 0700; the other user must be able to look inside
    const script = join(fx.root, "facts.mts");
    writeFileSync(
      script,
      `import { readHostFacts } from ${JSON.stringify(join(repoRoot, "sdk/host/facts.ts"))};\n` +
        `console.log(JSON.stringify((await readHostFacts(${JSON.stringify(fx.root)})).devKvm));\n`,
    );
    // A real unprivileged process: root can open anything, so the denial must come from another user.
    const out = execFileSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--import", "tsx", script],
      {
        cwd: repoRoot,
        encoding: "utf8",
      },
    );
    expect(JSON.parse(out)).toMatchObject({
      exists: true,
      openable: false,
      openError: "EACCES",
      userInGroup: false,
      group: "root",
    });
  });
});
