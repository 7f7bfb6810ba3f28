import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AUTO_PORTS, FIXTURES } from "../helpers/spec-fixtures.ts";
import { createFixtureFiles, launchCompiled } from "../helpers/spec-launch.ts";

// Short on purpose: unix socket paths are limited to 108 bytes.
const root = mkdtempSync("/tmp/qk-spec-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("QEMU accepts every compiled fixture (-S, TCG)", () => {
  const launchable = FIXTURES.filter((f) => !f.needsWindow);
  it.each(launchable)("$name", async (f) => {
    const dir = join(root, f.name);
    const runDir = join(dir, "run");
    mkdirSync(runDir, { recursive: true });
    await createFixtureFiles(dir, f.files);
    // Ports from QEMU (vnc "auto", hostfwd port 0): nothing fixed to collide with.
    const compiled = f.build(dir, AUTO_PORTS).compile({ runDir, accel: ["tcg"], startPaused: true });
    const vm = await launchCompiled(compiled);
    try {
      if (compiled.qmpSocket) expect(vm.status).toBe("prelaunch");
      else expect(vm.status).toBe("alive");
    } finally {
      await vm.kill();
    }
  });
});
