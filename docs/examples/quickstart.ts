// Boot the tiny built-in guest, talk to it over QMP and its serial console, shut it down.
// Run: npx tsx docs/examples/quickstart.ts   (or: deno run -A docs/examples/quickstart.ts)
import { guests, vm } from "../../sdk/mod.ts";

const tiny = await guests.tiny(); // built from Debian packages on first use, then cached

await using m = await vm()
  .name("quickstart")
  .memory(tiny.memoryMiB)
  .kernel(tiny.kernel, { initrd: tiny.initrd, append: tiny.append })
  .network("none")
  .start();

console.log(`accelerator: ${m.accel.chosen} (${m.accel.reason})`);
console.log("status:", (await m.qmp.execute("query-status")).status);

await m.console.waitFor(tiny.prompt, { timeout: 60_000 });
const { output, exitCode } = await m.console.run("uname -r");
console.log(`guest kernel: ${output.trim()} (exit ${exitCode})`);

const threads = await m.threads();
console.log(`QEMU threads: ${threads.length}, vCPU threads: ${threads.filter((t) => t.kind === "vcpu").length}`);
// Leaving the scope runs m.shutdown(): ACPI powerdown, then quit, SIGTERM, SIGKILL as needed.
