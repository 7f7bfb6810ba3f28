/**
 * Child script for the fault-injection tests: repeats one operation until it is killed.
 * argv: op ("start" | "convert" | "overlay"), work directory (holds base.qcow2, src.qcow2).
 * Prints `{"ready":true}` once its imports are loaded, so the parent's random delay falls
 * inside the operations, not inside Node's start-up.
 */
import { join } from "node:path";
import { rmSync } from "node:fs";
import { image } from "../../sdk/img/mod.ts";
import { startVm } from "../../sdk/machine/mod.ts";
import { bareSpec } from "./machine-fixtures.ts";

const [op, work] = [process.argv[2]!, process.argv[3]!];
const base = join(work, "base.qcow2");
process.stdout.write(JSON.stringify({ ready: true }) + "\n");
for (let i = 0; ; i++) {
  if (op === "start") {
    const vm = await startVm(
      bareSpec({
        daemonize: i % 2 === 1,
        disks: [
          {
            source: { kind: "overlay", base, baseFormat: "qcow2" },
            interface: "virtio",
            media: "disk",
            readOnly: false,
          },
        ],
      }),
    );
    await vm.kill();
  } else if (op === "convert") {
    const out = join(work, "img", `c${i % 3}.qcow2`);
    await image.convert(join(work, "src.qcow2"), out, { sourceFormat: "qcow2", overwrite: true });
  } else {
    const out = join(work, "img", `o${i}.qcow2`);
    await image.overlay(base, out, { baseFormat: "qcow2" });
    rmSync(out);
  }
}
