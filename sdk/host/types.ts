/**
 * Data shapes of the host check: facts read from the machine, check items, the verdict.
 * @module
 */
import type { Accel } from "../spec/types.ts";

/** How one check came out. `info` is a fact that is neither good nor bad. */
export type HostCheckStatus = "pass" | "warn" | "fail" | "info";

/** One line of the host report. */
export interface HostCheckItem {
  /** Stable identifier, e.g. `cpu-virt-flag`, `dev-kvm-access`, `kvm-probe`. */
  readonly id: string;
  readonly status: HostCheckStatus;
  /** One line for the table. */
  readonly summary: string;
  /** Longer explanation (paths, numbers, raw errors). */
  readonly detail?: string;
  /** What to do about a `warn`/`fail`. */
  readonly fix?: string;
}

/** The CPU as /proc/cpuinfo describes it. */
export interface CpuFacts {
  readonly vendor: string | undefined;
  readonly modelName: string | undefined;
  /** `vmx` (Intel VT-x), `svm` (AMD-V) or undefined when neither flag is present. */
  readonly virtFlag: "vmx" | "svm" | undefined;
  /** The `hypervisor` flag: this host is itself a virtual machine. */
  readonly underHypervisor: boolean;
  /** False when /proc/cpuinfo could not be read. */
  readonly readable: boolean;
}

/** A loaded kvm* kernel module and its interesting parameters. */
export interface KvmModule {
  readonly name: string;
  /** `nested` parameter when the module has one (kvm_intel, kvm_amd). */
  readonly nested?: string;
}

/** /dev/kvm as the current process sees it. */
export interface DevKvmFacts {
  readonly path: string;
  readonly exists: boolean;
  readonly isCharDevice?: boolean;
  readonly mode?: string;          // "crw-rw----"
  readonly uid?: number;
  readonly gid?: number;
  readonly owner?: string;
  readonly group?: string;
  /** Whether open(O_RDWR) succeeded for the current user. */
  readonly openable?: boolean;
  /** errno code of a failed open (EACCES, EPERM, ENXIO...). */
  readonly openError?: string;
  /** Whether the current user is in the device's group. */
  readonly userInGroup?: boolean;
}

/** Everything read from the filesystem (no processes started). */
export interface HostFacts {
  /** Filesystem root the facts were read under (`/` on a real host). */
  readonly root: string;
  readonly bootId: string | undefined;
  readonly cpu: CpuFacts;
  readonly modules: readonly KvmModule[];
  readonly devKvm: DevKvmFacts;
}

/** A QEMU program found on PATH. */
export interface HostQemuTool {
  readonly name: string;
  readonly path: string | undefined;
  readonly version: string | undefined;
  readonly error?: string;
}

/** Result of starting QEMU with one accelerator and running a tiny firmware payload. */
export interface AccelProbeResult {
  readonly accel: Accel;
  /** The vCPU ran the payload to its end (it wrote to the debug-exit port). */
  readonly ran: boolean;
  /** QMP `query-kvm` answer, when QEMU got that far. */
  readonly queryKvm?: { readonly enabled: boolean; readonly present: boolean };
  /** Gave up waiting for the payload: the vCPU made no progress in time. */
  readonly timedOut: boolean;
  readonly ms: number;
  /** ms from resuming the vCPU to QEMU's exit (or to giving up). */
  readonly runMs?: number;
  /** Process id the probe QEMU had (it has exited by the time the result exists). */
  readonly pid?: number;
  /** QEMU's own complaint (e.g. "Could not access KVM kernel module"). */
  readonly error?: string;
}

/** The decision `accel: "auto"` follows. */
export interface AccelVerdict {
  /** `kvm` when KVM really ran a guest here, else `tcg`. */
  readonly use: Accel;
  /** Why, in one sentence a user can act on. */
  readonly reason: string;
  /** The KVM-PVM case: a paravirtual KVM that ordinary guest kernels cannot use. */
  readonly pvm: boolean;
  /** The KVM probe when one was run (facts alone may settle it). */
  readonly probe?: AccelProbeResult;
  /** boot_id this verdict belongs to. */
  readonly bootId?: string;
  /** When the verdict was made (ISO time). */
  readonly decidedAt: string;
}

/** Everything `host.check()` found. */
export interface HostReport {
  readonly items: readonly HostCheckItem[];
  readonly verdict: AccelVerdict;
  /** True when some accelerator (KVM or TCG) can run a VM here. */
  readonly canRunVm: boolean;
  readonly facts: HostFacts;
  readonly qemu: readonly HostQemuTool[];
}
