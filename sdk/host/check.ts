/**
 * `host.check()`: every virtualization fact about this machine, each with a status and a fix,
 * plus the KVM-or-TCG verdict.
 * @module
 */
import type { Accel } from "../spec/types.ts";
import { cacheVerdict } from "./accel.ts";
import { readHostFacts } from "./facts.ts";
import { type Prober, runProbes } from "./measure.ts";
import { findQemuTool, QEMU_PROGRAMS } from "./tools.ts";
import type { AccelProbeResult, AccelVerdict, HostCheckItem, HostFacts, HostQemuTool, HostReport } from "./types.ts";
import { isPvmHost, verdictFromFacts, verdictFromProbes } from "./verdict.ts";

/** Options for {@link check}. */
export interface HostCheckOptions {
  /** Filesystem root to read /proc, /sys, /dev and /etc under (fixture trees in tests). @default "/" */
  readonly root?: string;
  /** qemu-system binary to report on and probe with. @default "qemu-system-x86_64" */
  readonly qemu?: string;
  /** Run the timed probes (TCG, and KVM when /dev/kvm opens). @default true */
  readonly probe?: boolean;
  /** How long the KVM probe's guest gets to finish, in ms. @default 3000 */
  readonly probeTimeout?: number;
  /**
   * Runs the probes instead of QEMU: fixture roots get measured results this way. Without
   * it, probes run only when `root` is `/` (QEMU would probe this machine's /dev/kvm).
   */
  readonly prober?: Prober;
  /** Also check libvirt at this URI (reachable, QEMU driver usable). @default not checked */
  readonly libvirt?: string;
}

function cpuItem(f: HostFacts): HostCheckItem {
  const { cpu } = f;
  if (!cpu.readable) {
    return { id: "cpu-virt-flag", status: "warn", summary: "/proc/cpuinfo could not be read", fix: "mount /proc" };
  }
  const model = cpu.modelName ? ` (${cpu.modelName})` : "";
  if (cpu.virtFlag) {
    return {
      id: "cpu-virt-flag",
      status: "pass",
      summary: `CPU has ${cpu.virtFlag} (${cpu.virtFlag === "vmx" ? "Intel VT-x" : "AMD-V"})${model}`,
    };
  }
  return {
    id: "cpu-virt-flag",
    status: "fail",
    summary: `CPU has no vmx/svm flag${model}`,
    detail: cpu.underHypervisor
      ? "the 'hypervisor' flag is set: this host is itself a VM whose hypervisor does not expose VT-x/AMD-V"
      : "hardware virtualization is absent or disabled",
    fix: cpu.underHypervisor
      ? "ask the outer hypervisor for nested virtualization (e.g. a CPU model with vmx/svm); until then use TCG"
      : "enable VT-x/AMD-V (SVM) in the firmware setup; until then use TCG",
  };
}

function modulesItems(f: HostFacts): HostCheckItem[] {
  const names = f.modules.map((m) => m.name);
  const items: HostCheckItem[] = [];
  const vendor: string[] = names.filter((n) => n === "kvm_intel" || n === "kvm_amd");
  const paravirt = names.filter((n) => n !== "kvm" && !vendor.includes(n));
  if (names.length === 0) {
    items.push({
      id: "kvm-modules",
      status: "fail",
      summary: "no kvm module loaded",
      fix: f.cpu.virtFlag
        ? `sudo modprobe ${f.cpu.virtFlag === "vmx" ? "kvm_intel" : "kvm_amd"}`
        : "the CPU has no vmx/svm, so kvm_intel/kvm_amd cannot load",
    });
  } else if (paravirt.length > 0 && vendor.length === 0) {
    items.push({
      id: "kvm-modules",
      status: "warn",
      summary: `loaded: ${names.join(", ")} (paravirtual KVM, no kvm_intel/kvm_amd)`,
      detail: paravirt.some((n) => /pvm/.test(n))
        ? "kvm_pvm (KVM-PVM) is built for PVM guest kernels; ordinary guest code runs under it, but slowly (the probes measure how slowly)"
        : `paravirtual KVM variant(s): ${paravirt.join(", ")}`,
      fix: 'let the probes decide (accel("auto")), or boot a PVM-enabled guest kernel to use KVM',
    });
  } else if (vendor.length === 0) {
    items.push({
      id: "kvm-modules",
      status: "fail",
      summary: `loaded: ${names.join(", ")}, but no vendor module (kvm_intel/kvm_amd)`,
      fix: f.cpu.virtFlag ? `sudo modprobe ${f.cpu.virtFlag === "vmx" ? "kvm_intel" : "kvm_amd"}` : undefined,
    });
  } else {
    items.push({ id: "kvm-modules", status: "pass", summary: `loaded: ${names.join(", ")}` });
  }
  const nested = f.modules.filter((m) => m.nested !== undefined);
  if (nested.length > 0) {
    const on = nested.some((m) => m.nested === "Y" || m.nested === "1");
    items.push({
      id: "nested",
      status: "info",
      summary: `nested virtualization ${on ? "enabled" : "disabled"} (${nested.map((m) => `${m.name}.nested=${m.nested}`).join(", ")})`,
      ...(on
        ? {}
        : {
            fix: `only needed for VMs inside VMs: echo "options ${nested[0]!.name} nested=1" | sudo tee /etc/modprobe.d/nested.conf, then reload the module`,
          }),
    });
  } else {
    items.push({
      id: "nested",
      status: "info",
      summary: "nested virtualization: not applicable (no kvm_intel/kvm_amd nested parameter)",
    });
  }
  return items;
}

function devKvmItems(f: HostFacts): HostCheckItem[] {
  const d = f.devKvm;
  if (!d.exists) {
    return [
      {
        id: "dev-kvm",
        status: "fail",
        summary: `${d.path} does not exist`,
        detail:
          f.modules.length > 0
            ? "kvm modules are loaded, so the device node is missing from this environment (a container without the device?)"
            : "no kvm module is loaded",
        fix:
          f.modules.length > 0
            ? "pass the device in (docker run --device /dev/kvm) or create it: sudo mknod /dev/kvm c 10 232"
            : "load the kvm module (needs vmx/svm)",
      },
    ];
  }
  const owner = `${d.owner ?? d.uid}:${d.group ?? d.gid} ${d.mode}`;
  const items: HostCheckItem[] = [
    {
      id: "dev-kvm",
      status: d.isCharDevice ? "pass" : "warn",
      summary: `${d.path} present, ${owner}`,
      ...(d.isCharDevice
        ? {}
        : { detail: "not a character device", fix: "sudo rm /dev/kvm && sudo mknod /dev/kvm c 10 232" }),
    },
  ];
  if (d.openable) {
    items.push({ id: "dev-kvm-access", status: "pass", summary: `${d.path} opens read-write for this user` });
  } else {
    const group = d.group ?? String(d.gid);
    items.push({
      id: "dev-kvm-access",
      status: "fail",
      summary: `${d.path} cannot be opened read-write (${d.openError})`,
      detail: d.userInGroup
        ? `you are in group ${group}, but the mode ${d.mode} does not allow it`
        : `you are not in group ${group}`,
      fix: d.userInGroup
        ? `sudo chmod 660 ${d.path}`
        : `sudo usermod -aG ${group} "$USER" and log in again (or run: newgrp ${group})`,
    });
  }
  return items;
}

function toolItems(tools: readonly HostQemuTool[], wanted: string, qemu: HostQemuTool | undefined): HostCheckItem[] {
  const found = tools.filter((t) => t.name !== "qemu-img" && t.path);
  const img = tools.find((t) => t.name === "qemu-img");
  const items: HostCheckItem[] = [];
  items.push(
    qemu
      ? {
          id: "qemu-system",
          status: "pass",
          summary: found.map((t) => `${t.name} ${t.version ?? "(version unknown)"}`).join(", "),
          detail: `using ${qemu.path}`,
        }
      : {
          id: "qemu-system",
          status: "fail",
          summary: `${wanted} not found`,
          ...(found.length ? { detail: `also on PATH: ${found.map((t) => t.path).join(", ")}` } : {}),
          fix: "sudo apt-get install qemu-system-x86   (or run: npm run setup)",
        },
  );
  items.push(
    img?.path
      ? { id: "qemu-img", status: "pass", summary: `qemu-img ${img.version ?? "(version unknown)"}`, detail: img.path }
      : { id: "qemu-img", status: "warn", summary: "qemu-img not on PATH", fix: "sudo apt-get install qemu-utils" },
  );
  return items;
}

function probeItem(accel: Accel, p: AccelProbeResult | undefined, skipped: string): HostCheckItem {
  const id = `${accel}-probe`;
  if (!p) return { id, status: "info", summary: `${accel} probe not run: ${skipped}` };
  const steps = `${p.steps.toLocaleString("en-US")} loop steps`;
  if (p.ran) {
    return {
      id,
      status: "pass",
      summary: `${accel} ran the probe (${steps}) in ${p.runMs} ms`,
      detail: `${p.ms} ms with QEMU's start and exit`,
    };
  }
  if (p.timedOut && p.timedOutIn === "run") {
    return { id, status: "warn", summary: `${accel} did not finish the probe (${steps}) within ${p.runMs} ms` };
  }
  return {
    id,
    status: "fail",
    summary: p.timedOut
      ? `${accel}: QEMU did not start the guest within ${p.ms} ms`
      : `${accel} could not run the probe`,
    ...(p.error ? { detail: p.error } : {}),
  };
}

/**
 * Checks this host for virtualization: CPU flags, kvm modules, /dev/kvm and its access,
 * nested setting, QEMU programs, real KVM and TCG probes, and the verdict `accel: "auto"` uses.
 *
 * @example
 * ```ts
 * const report = await host.check();
 * for (const i of report.items) console.log(i.status, i.summary);
 * console.log(report.verdict.use, report.verdict.reason);
 * ```
 */
export async function check(options: HostCheckOptions = {}): Promise<HostReport> {
  const root = options.root ?? "/";
  const qemuName = options.qemu ?? "qemu-system-x86_64";
  const programs = QEMU_PROGRAMS.includes(qemuName as never) ? [...QEMU_PROGRAMS] : [qemuName, ...QEMU_PROGRAMS];
  const [facts, tools] = await Promise.all([readHostFacts(root), Promise.all(programs.map(findQemuTool))]);
  // An explicitly named binary is used or reported missing, never silently replaced.
  const qemu =
    tools.find((t) => t.name === qemuName && t.path) ??
    (options.qemu ? undefined : tools.find((t) => t.path && t.name === "qemu-kvm"));
  const items: HostCheckItem[] = [
    cpuItem(facts),
    ...modulesItems(facts),
    ...devKvmItems(facts),
    ...toolItems(tools, qemuName, qemu),
  ];

  const probing = options.probe ?? true;
  const fromFacts = verdictFromFacts(facts);
  const probes = probing
    ? await runProbes(facts, {
        qemu: qemu?.path,
        ...(options.prober ? { prober: options.prober } : {}),
        ...(options.probeTimeout ? { kvmTimeout: options.probeTimeout } : {}),
      })
    : {};
  const verdict: AccelVerdict = fromFacts ? { ...fromFacts, probes } : verdictFromProbes(facts, probes);
  const notRun = !probing
    ? "probing is off"
    : !qemu?.path
      ? "no qemu-system binary"
      : root !== "/" && !options.prober
        ? "the facts come from a fixture root"
        : "";
  items.push(probeItem("tcg", probes.tcg, notRun));
  items.push(probeItem("kvm", probes.kvm, notRun || "/dev/kvm is not usable"));
  if (probes.tcg && qemu?.path) await cacheVerdict(facts, qemu.name, verdict);
  if (options.libvirt) {
    const { checkLibvirt } = await import("../libvirt/check.ts");
    items.push(await checkLibvirt(options.libvirt));
  }
  const tcgRuns = probes.tcg ? probes.tcg.ran : Boolean(qemu?.path);
  const canRunVm = Boolean(qemu?.path) && (verdict.use === "kvm" || tcgRuns);
  items.push({
    id: "verdict",
    status: canRunVm ? (verdict.use === "kvm" ? "pass" : "warn") : "fail",
    summary: canRunVm
      ? `use ${verdict.use}: ${verdict.reason}`
      : `no VM can run here: ${qemu?.path ? "TCG failed too" : "no qemu-system binary"}`,
    ...(canRunVm && verdict.use === "tcg" && !verdict.probes?.kvm
      ? { detail: "TCG emulates the CPU in software; a usable hardware KVM runs guests many times faster" }
      : {}),
    ...(isPvmHost(facts)
      ? { fix: 'none needed: on KVM-PVM hosts ordinary guests run faster under TCG, and accel("auto") picks it' }
      : {}),
  });
  return { items, verdict, canRunVm, facts, qemu: tools };
}
