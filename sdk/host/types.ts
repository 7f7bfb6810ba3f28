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
  readonly mode?: string; // "crw-rw----"
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

/** Result of running the timed probe firmware under one accelerator (`probeAccel`). */
export interface AccelProbeResult {
  readonly accel: Accel;
  /** The guest ran the loop to its end and reported the right checksum. */
  readonly ran: boolean;
  /** Gave up waiting: QEMU did not start in time, or the guest did not finish in time. */
  readonly timedOut: boolean;
  /** Which clock ran out: `start` (no first guest byte) or `run` (no checksum). */
  readonly timedOutIn?: "start" | "run";
  /** Wall time of the whole probe (QEMU start, guest run, exit), in ms. */
  readonly ms: number;
  /**
   * The measurement: ms from the guest's first serial byte to its checksum (0.1 ms
   * resolution), or to giving up. Absent when the guest never started.
   */
  readonly runMs?: number;
  /** Loop steps the guest was asked to run. */
  readonly steps: number;
  /** The checksum the guest printed. */
  readonly checksum?: string;
  /** Process id the probe QEMU had (it has exited by the time the result exists). */
  readonly pid?: number;
  /** QEMU's own complaint (e.g. "Could not access KVM kernel module"). */
  readonly error?: string;
}

/** The decision `accel: "auto"` follows. */
export interface AccelVerdict {
  /** The accelerator that ran the probe faster (`tcg` when KVM is unusable or slower). */
  readonly use: Accel;
  /** Why, with the measured figures, e.g. "kvm ran the probe 31x slower than tcg (...): KVM-PVM". */
  readonly reason: string;
  /** The KVM-PVM case: `kvm_pvm` loaded and no vmx/svm flag. Informs the reason, never decides. */
  readonly pvm: boolean;
  /** The timed probes behind the verdict; absent when the facts settled it (no usable /dev/kvm). */
  readonly probes?: { readonly tcg?: AccelProbeResult; readonly kvm?: AccelProbeResult };
  /** kvm's run time divided by tcg's, when both ran (or a lower bound when kvm timed out). */
  readonly kvmToTcg?: number;
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
