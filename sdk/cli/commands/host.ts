/**
 * `qemukit host check [--json]`: the host virtualization report.
 * @module
 */
import { check } from "../../host/check.ts";
import { formatHostReport } from "../../host/format.ts";
import { parseFlags } from "../args.ts";
import type { CliCommand } from "../command.ts";

const checkCommand: CliCommand = {
  name: "check",
  summary: "report CPU flags, kvm modules, /dev/kvm access, QEMU versions and the KVM-or-TCG verdict",
  help: [
    "usage: qemukit host check [--json] [--no-probe] [--qemu BINARY] [--libvirt URI]",
    "",
    "Checks this host for virtualization and says whether VMs will use KVM or TCG, and why.",
    "Times a small guest program under -accel tcg and, when /dev/kvm opens, -accel kvm;",
    'the faster one per loop step is what accel("auto") uses (cached per boot).',
    "",
    "options:",
    "  --json          print the full report as JSON",
    "  --no-probe      read facts only, start no QEMU",
    "  --qemu BINARY   qemu-system binary to check (default qemu-system-x86_64)",
    "  --libvirt URI   also check libvirt at URI (qemu:///system, qemu+ssh://...): reachable, QEMU driver usable",
    "",
    "exit status: 0 when a VM can run here (KVM or TCG), 1 when it cannot.",
  ].join("\n"),
  async run(args, io) {
    const { values } = parseFlags(
      args,
      {
        json: { type: "boolean" },
        "no-probe": { type: "boolean" },
        qemu: { type: "string" },
        libvirt: { type: "string" },
      },
      0,
    );
    const report = await check({
      probe: !values["no-probe"],
      ...(values.qemu ? { qemu: values.qemu } : {}),
      ...(values.libvirt ? { libvirt: values.libvirt } : {}),
    });
    if (values.json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
    else
      io.stdout.write(formatHostReport(report, { color: Boolean(io.stdout.isTTY), columns: io.stdout.columns ?? 100 }));
    return report.canRunVm ? 0 : 1;
  },
};

/** `qemukit host`: host checks. */
export const command: CliCommand = {
  name: "host",
  summary: "check this host for virtualization support",
  help: "usage: qemukit host <subcommand>\n\nChecks this host for virtualization support.",
  subcommands: [checkCommand],
};
