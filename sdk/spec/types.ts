/**
 * The VM description: plain, frozen data. The builder ({@link "./builder.ts"}) produces it,
 * the compiler turns it into a qemu argv, the machine layer runs it. Nothing here does I/O.
 * @module
 */

/** Disk image formats qemukit passes to QEMU explicitly (QEMU never probes). */
export type ImageFormat = "qcow2" | "raw" | "vdi" | "vmdk" | "vhdx" | "qed" | "vpc";

/** A concrete accelerator. */
export type Accel = "kvm" | "tcg";

/** `auto` asks the host check which accelerator can really run a guest here. */
export type AccelChoice = "auto" | Accel | readonly Accel[];

/** Where a disk's bytes come from. */
export type DiskSource =
  /** An existing image file used as is. */
  | { readonly kind: "file"; readonly path: string; readonly format: ImageFormat }
  /**
   * A qcow2 copy-on-write layer over `base`, created when the VM starts. `path` undefined
   * means "in the VM's run directory" (removed with it); `baseFormat` undefined means
   * "detect with qemu-img info at start".
   */
  | {
      readonly kind: "overlay";
      readonly base: string;
      readonly baseFormat?: ImageFormat;
      readonly path?: string;
    };

/** Legacy IDE slots of the lab's `-hda`..`-hdd`. */
export type LegacySlot = "hda" | "hdb" | "hdc" | "hdd";

/** One disk or CD-ROM. */
export interface DiskSpec {
  readonly source: DiskSource;
  readonly interface: "virtio" | "ide" | "scsi";
  readonly media: "disk" | "cdrom";
  readonly readOnly: boolean;
  readonly cache?: "none" | "writeback" | "writethrough" | "directsync" | "unsafe";
  readonly aio?: "threads" | "native" | "io_uring";
  /** Set when the user asked for the lab's syntax (`hda()`): compiled as `-hda path`-style drive. */
  readonly legacySlot?: LegacySlot;
  /** `bootindex` of the device, when the user gave one. */
  readonly bootIndex?: number;
}

/** A host TCP port forwarded into the guest (user-mode network). */
export interface PortForward {
  readonly protocol: "tcp" | "udp";
  readonly hostAddress?: string;
  /**
   * The host port; 0 lets the host pick a free one (`forward("auto", guestPort)`), which the
   * running VM reports (`m.forwards()`, `m.hostPort(guestPort)`).
   */
  readonly hostPort: number;
  readonly guestPort: number;
}

/** Display output. */
export type DisplaySpec = { readonly kind: "none" } | { readonly kind: "gtk" | "sdl" | "curses" };

/** VNC server settings. */
export interface VncSpec {
  /** Display number N: TCP port 5900+N. */
  readonly display: number;
  /**
   * Last display to try when `display` is taken (QEMU's `to=`): `vnc("auto")` asks for the
   * first free one from 0 to 99; the running VM reports the one it got (`m.vnc.port`).
   */
  readonly to?: number;
  /** Address to listen on; loopback unless the user says otherwise. */
  readonly listen: string;
  /** Also serve a websocket (port 5700+N) for noVNC. */
  readonly websocket: boolean;
  /** Require a password (set later over QMP `change-vnc-password`). */
  readonly password: boolean;
}

/** Where the guest's first serial port goes. */
export type SerialSpec =
  /** A unix socket in the run directory that qemukit connects to (the default). */
  | { readonly kind: "socket" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "stdio" }
  | { readonly kind: "none" };

/** Guest network. */
export type NetworkSpec =
  | { readonly kind: "none" }
  | { readonly kind: "user"; readonly forwards: readonly PortForward[]; readonly model: "virtio-net-pci" | "e1000" };

/** Direct kernel boot. */
export interface KernelSpec {
  readonly kernel: string;
  readonly initrd?: string;
  readonly append?: string;
}

/** A complete VM description. Frozen; builders return new ones. */
export interface VmSpec {
  /** Human name; also names the run directory. Letters, digits, `-`, `_`, `.`. */
  readonly name?: string;
  /** Guest RAM in MiB. */
  readonly memoryMiB: number;
  readonly smp: {
    readonly cpus: number;
    readonly sockets?: number;
    readonly cores?: number;
    readonly threads?: number;
  };
  readonly accel: AccelChoice;
  readonly machine?: string;
  readonly cpu?: string;
  readonly disks: readonly DiskSpec[];
  /** `-boot order=...` letters (c = first disk, d = CD-ROM, n = network). */
  readonly bootOrder?: string;
  readonly kernel?: KernelSpec;
  readonly display: DisplaySpec;
  readonly vnc?: VncSpec;
  readonly serial: SerialSpec;
  /** qemukit always has a QMP monitor on a unix socket in the run directory, unless false. */
  readonly qmp: boolean;
  /**
   * A QEMU guest agent channel: a virtio-serial port named `org.qemu.guest_agent.0` whose
   * host end is a unix socket in the run directory (what `m.$` and file copies use).
   * Absent or false: none.
   */
  readonly agent?: boolean;
  readonly network: NetworkSpec;
  /** Leave QEMU running after the script ends (`-daemonize`). */
  readonly daemonize: boolean;
  /** Keep the run directory (and temporary overlays) after the VM stops. */
  readonly keep: boolean;
  /** Raw arguments appended as is (the escape hatch). */
  readonly extraArgs: readonly string[];
}
