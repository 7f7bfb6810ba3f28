// Compile a VM description to a qemu command line, and parse the lab's command lines back.
// Run: npx tsx docs/examples/command-line.ts
import { fromCommandLine, overlay, vm } from "../../sdk/mod.ts";

const builder = vm().memory(512).smp(2).disk(overlay("debian-12.qcow2")).vnc(1);
console.log(builder.toCommandLine({ runDir: "/tmp/qemukit/demo" }));

const {
  builder: lab,
  unmodelled,
  warnings,
} = fromCommandLine("kvm -hda debian-11.qcow2 -m 512 -smp 2 -vnc :1 --daemonize");
console.log(lab.spec.memoryMiB, lab.spec.smp.cpus, lab.spec.vnc?.display, lab.spec.daemonize, unmodelled);
for (const w of warnings) console.log(`warning: ${w.message}`); // -vnc :1 listens on all interfaces
