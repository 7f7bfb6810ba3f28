// A zx-style script inside a guest: an overlay over the built-in Debian guest, commands run in
// it with m.$ (through the QEMU guest agent), a file copied in, a report copied out, and a
// clean ACPI power-off. zx's own $ does the host side.
// Run: npx tsx docs/examples/guest-script.ts   (or: deno run -A docs/examples/guest-script.ts)
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "zx";
import { guests, image, vm } from "../../sdk/mod.ts";

const debian = await guests.debian(); // built from Debian packages on first use, then cached
const work = await mkdtemp(join(tmpdir(), "guest-script-"));
try {
  const disk = join(work, "disk.qcow2");
  await image.overlay(debian.image, disk, { baseFormat: debian.format }); // the base stays untouched

  // The image's own kernel and initramfs given to QEMU directly: about half the boot time of
  // SeaBIOS + GRUB reading them from the disk (drop .kernel(...) to boot it like a PC).
  const m = await vm()
    .name(`guest-script-${process.pid}`)
    .memory(debian.memoryMiB)
    .smp(2)
    .hda(disk)
    .kernel(debian.kernel, { initrd: debian.initrd, append: debian.append })
    .agent()
    .start();
  await m.agent({ timeout: 300_000 }); // qemu-ga answers once the guest has booted (TCG: 15-45 s)

  // The agent can answer before DHCP has finished: wait for the address (a guest-side loop).
  await m.$`until ip -4 -br a | grep -q 10.0.2.15; do sleep 0.2; done`.timeout(120_000);
  const df = await m.$`df -h /`;
  console.log(`root file system: ${df.lines()[1]}`);
  const ip = await m.$`ip -br -4 a`;
  console.log(`addresses: ${ip.lines().join("; ")}`);

  const notes = join(work, "notes from the host.txt");
  await writeFile(notes, "hello from the host\n");
  await m.copyIn(notes, "/root/notes.txt");
  const title = "report: $(hostname) isn't expanded";
  await m.$`{ echo ${title}; df -h /; ip -br a; cat /root/notes.txt; } > /root/report.txt`;
  const report = join(work, "report.txt");
  console.log(`report: ${await m.copyOut("/root/report.txt", report)} bytes`);
  console.log(`report lines: ${(await $`wc -l < ${report}`).stdout.trim()}`);
  console.log(`report title: ${(await $`head -1 ${report}`).stdout.trim()}`);

  const exit = await m.shutdown(); // ACPI power button; the guest powers itself off
  console.log(`shutdown: ${exit.reason}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
