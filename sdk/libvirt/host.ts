/**
 * One libvirt host as qemukit uses it: its URI, `virsh` calls, domains, node facts for
 * placement, and (for remote hosts) a storage pool where bases are uploaded once, found
 * again by checksum, and overlays are made per VM.
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { ImageFormat } from "../spec/types.ts";
import { type LibvirtUri, parseLibvirtUri, VirshSession, virsh } from "./connection.ts";
import { LibvirtError } from "./errors.ts";
import { el, renderXml, xmlAttr, xmlText } from "./xml.ts";

/** Options of {@link libvirt}. */
export interface LibvirtOptions {
  /** Storage pool for bases, overlays (remote hosts) and qemukit's sockets. @default "qemukit" */
  readonly pool?: string;
  /** Directory of that pool on the host, used when qemukit defines the pool. @default "/var/lib/libvirt/qemukit" */
  readonly poolPath?: string;
}

/** A storage volume on a libvirt host, as {@link LibvirtHost.volumeInfo} reads it. */
export interface VolumeInfo {
  readonly name: string;
  /** Its path on the host. */
  readonly path: string;
  /** "qcow2", "raw", ... */
  readonly format: string;
  /** Virtual size in bytes. */
  readonly capacity: number;
  /** Bytes the file takes on the host's disk. */
  readonly allocation: number;
  /** The volume it is an overlay of. */
  readonly backing?: { readonly path: string; readonly format: string };
}

/** Node facts used to place VMs. */
export interface NodeFacts {
  readonly uri: string;
  /** The node's identity (libvirt's host UUID): two URIs to one libvirtd give the same. */
  readonly node: string;
  /** Host memory not in use, in MiB (`virsh nodememstats`: free + buffers + cached). */
  readonly freeMiB: number;
  /** Running domains (all of them, not only qemukit's). */
  readonly running: number;
  readonly cpus: number;
}

const DEFAULT_POOL = "qemukit";
const DEFAULT_POOL_PATH = "/var/lib/libvirt/qemukit";

/** sha256 of local files, remembered per (path, size, mtime) so a base is hashed once. */
const sums = new Map<string, string>();
async function sha256(path: string): Promise<string> {
  const st = await stat(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  const known = sums.get(key);
  if (known) return known;
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  const sum = h.digest("hex");
  sums.set(key, sum);
  return sum;
}

/**
 * A libvirt host (a URI). Get one from {@link libvirt}; pass it to `start({ on })`,
 * `fleet()`, `list()` or `attach()`.
 *
 * @example
 * ```ts
 * const h = libvirt("qemu+ssh://root@host/system");
 * console.log(await h.nodeFacts());
 * ```
 */
export class LibvirtHost {
  readonly uri: string;
  readonly pool: string;
  readonly poolPath: string;
  readonly #parsed: LibvirtUri;
  #poolReady: Promise<string> | undefined;
  #via: VirshSession | undefined;

  constructor(uri: string, options: LibvirtOptions = {}) {
    this.#parsed = parseLibvirtUri(uri);
    this.uri = uri;
    this.pool = options.pool ?? DEFAULT_POOL;
    this.poolPath = options.poolPath ?? DEFAULT_POOL_PATH;
  }

  /** True for `qemu+ssh://`: disks, kernels and sockets live on another machine. */
  get remote(): boolean {
    return this.#parsed.ssh !== undefined;
  }

  /** The parsed URI (ssh target for qemukit's own streams). */
  get target(): LibvirtUri {
    return this.#parsed;
  }

  /**
   * One virsh command on this host. @example `await host.virsh(["list", "--name"]);`
   */
  virsh(args: readonly string[]): Promise<string> {
    return this.#via ? this.#via.run(args) : virsh(this.uri, args);
  }

  /**
   * The same host with every command sent through one open virsh session: over ssh a
   * one-shot virsh costs a new ssh login (~0.8 s here), a session command a few ms.
   * @example `const h = host.through(await host.session());`
   */
  through(session: VirshSession): LibvirtHost {
    const h = new LibvirtHost(this.uri, { pool: this.pool, poolPath: this.poolPath });
    h.#via = session;
    h.#poolReady = this.#poolReady;
    return h;
  }

  /** A long-lived virsh on this host (holds `--autodestroy` domains). */
  session(): Promise<VirshSession> {
    return VirshSession.open(this.uri);
  }

  /** Kills a domain (`virsh destroy`). @example `await host.destroy("web1");` */
  async destroy(name: string): Promise<void> {
    await this.virsh(["destroy", name]);
  }

  /** Names of running domains. @example `await host.domains();` */
  async domains(): Promise<string[]> {
    return (await this.virsh(["list", "--name"])).split("\n").filter(Boolean);
  }

  /**
   * Free memory and running domains, for placement.
   * @example `const { freeMiB, running } = await host.nodeFacts();`
   */
  async nodeFacts(): Promise<NodeFacts> {
    const s = this.#via ?? (await this.session());
    try {
      const mem = await s.run(["nodememstats"]);
      const kib = (k: string) => Number(new RegExp(`^${k}\\s*:\\s*(\\d+)`, "m").exec(mem)?.[1] ?? 0);
      const info = await s.run(["nodeinfo"]);
      const cpus = Number(/^CPU\(s\):\s*(\d+)/m.exec(info)?.[1] ?? 1);
      const running = (await s.run(["list", "--name"])).split("\n").filter(Boolean).length;
      const caps = await s.run(["capabilities"]);
      return {
        uri: this.uri,
        node: /<host>\s*<uuid>([^<]+)<\/uuid>/.exec(caps)?.[1] ?? this.uri,
        freeMiB: Math.floor((kib("free") + kib("buffers") + kib("cached")) / 1024),
        running,
        cpus,
      };
    } finally {
      if (s !== this.#via) await s.close();
    }
  }

  /** Makes sure qemukit's pool exists and runs; returns its directory on the host. */
  ensurePool(): Promise<string> {
    this.#poolReady ??= this.#ensurePool().catch((e) => {
      this.#poolReady = undefined;
      throw e;
    });
    return this.#poolReady;
  }

  async #ensurePool(): Promise<string> {
    const existing = await this.virsh(["pool-dumpxml", this.pool]).catch(() => undefined);
    if (existing) {
      const state = await this.virsh(["pool-info", this.pool]);
      if (!/State:\s*running/.test(state)) await this.virsh(["pool-start", this.pool]);
      return xmlText(existing, "path") ?? this.poolPath;
    }
    const xml = renderXml(
      el("pool", { type: "dir" }, [el("name", {}, this.pool), el("target", {}, [el("path", {}, this.poolPath)])]),
    );
    const tmp = await mkdtemp(join(tmpdir(), "qk-pool-"));
    try {
      const file = join(tmp, "pool.xml");
      await writeFile(file, xml);
      await this.virsh(["pool-define", file]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    // pool-build makes the directory on the host: no shell access needed there.
    await this.virsh(["pool-build", this.pool]);
    await this.virsh(["pool-start", this.pool]);
    return this.poolPath;
  }

  /**
   * Uploads a local file into the pool once, named by its sha256, and returns the volume's
   * path on the host. A later call with the same content finds it by name and uploads nothing.
   * @example `const { path } = await host.uploadBase("/images/debian-12.qcow2", "qcow2");`
   */
  async uploadBase(
    file: string,
    format: ImageFormat | "raw",
  ): Promise<{ name: string; path: string; uploaded: boolean }> {
    await this.ensurePool();
    const sum = await sha256(file);
    const ext = /\.[A-Za-z0-9]+$/.exec(basename(file))?.[0] ?? "";
    const name = `qk-base-${sum.slice(0, 32)}${ext}`;
    const found = await this.virsh(["vol-path", "--pool", this.pool, name]).catch(() => undefined);
    if (found) return { name, path: found.trim(), uploaded: false };
    const size = (await stat(file)).size;
    await this.virsh([
      "vol-create-as",
      this.pool,
      name,
      String(size),
      "--format",
      format === "qcow2" ? "qcow2" : "raw",
    ]);
    try {
      await this.virsh(["vol-upload", "--pool", this.pool, name, file]);
    } catch (e) {
      // A half-uploaded base must not be found again by its name.
      await this.virsh(["vol-delete", "--pool", this.pool, name]).catch(() => {});
      throw e;
    }
    const path = (await this.virsh(["vol-path", "--pool", this.pool, name])).trim();
    return { name, path, uploaded: true };
  }

  /**
   * Creates a qcow2 overlay volume over a base volume; returns its path on the host.
   * @example `await host.createOverlay("qk-web1-disk0.qcow2", base, "qcow2", 2 ** 30);`
   */
  async createOverlay(name: string, baseVolume: string, baseFormat: ImageFormat, capacity: number): Promise<string> {
    await this.virsh([
      "vol-create-as",
      this.pool,
      name,
      String(capacity),
      "--format",
      "qcow2",
      "--backing-vol",
      baseVolume,
      "--backing-vol-format",
      baseFormat,
    ]);
    return (await this.virsh(["vol-path", "--pool", this.pool, name])).trim();
  }

  /** Deletes volumes of qemukit's pool; missing ones are ignored. */
  async deleteVolumes(names: readonly string[]): Promise<void> {
    for (const n of names) await this.virsh(["vol-delete", "--pool", this.pool, n]).catch(() => {});
  }

  /** Names of the volumes in qemukit's pool (after a refresh). */
  async volumes(): Promise<string[]> {
    await this.virsh(["pool-refresh", this.pool]).catch(() => {});
    const out = await this.virsh(["vol-list", "--pool", this.pool]).catch(() => "");
    return out
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0] ?? "")
      .filter(Boolean);
  }

  /**
   * A volume as libvirt sees it on the host (`virsh vol-dumpxml`), by name in qemukit's
   * pool or by its path on the host: format, capacity, bytes allocated (what `du` counts)
   * and its backing volume, if any. libvirt re-reads the file each time.
   * @example `const { allocation, backing } = await host.volumeInfo("/var/lib/libvirt/qemukit/qk-web1-disk0.qcow2");`
   */
  async volumeInfo(volume: string): Promise<VolumeInfo> {
    const args = volume.startsWith("/") ? ["vol-dumpxml", volume] : ["vol-dumpxml", "--pool", this.pool, volume];
    const xml = await this.virsh(args);
    const target = /<target>[\s\S]*?<\/target>/.exec(xml)?.[0] ?? "";
    const backing = /<backingStore>[\s\S]*?<\/backingStore>/.exec(xml)?.[0];
    const backingPath = backing ? xmlText(backing, "path") : undefined;
    return {
      name: xmlText(xml, "name") ?? basename(volume),
      path: xmlText(target, "path") ?? volume,
      format: xmlAttr(target, "format", "type") ?? "raw",
      capacity: Number(xmlText(xml, "capacity") ?? 0),
      allocation: Number(xmlText(xml, "allocation") ?? 0),
      ...(backing && backingPath
        ? { backing: { path: backingPath, format: xmlAttr(backing, "format", "type") ?? "raw" } }
        : {}),
    };
  }

  /**
   * Copies a volume of qemukit's pool to a local file (`virsh vol-download`).
   * @example `await host.downloadVolume("qk-base-0123.qcow2", "/tmp/base.qcow2");`
   */
  async downloadVolume(volume: string, file: string): Promise<void> {
    await this.virsh(["vol-download", "--pool", this.pool, volume, file]);
  }

  /**
   * Has QEMU write a screendump into the pool directory on the host, then downloads it
   * through libvirt and deletes it.
   */
  async fetchScreendump(domain: string, dump: (hostPath: string) => Promise<void>): Promise<Buffer> {
    const dir = await this.ensurePool();
    const name = `qk-screen-${domain}-${Date.now()}.png`;
    await dump(`${dir}/${name}`);
    const tmp = await mkdtemp(join(tmpdir(), "qk-shot-"));
    try {
      await this.virsh(["pool-refresh", this.pool]);
      await this.virsh(["vol-download", "--pool", this.pool, name, join(tmp, name)]);
      return await readFile(join(tmp, name));
    } finally {
      await this.deleteVolumes([name]);
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

/**
 * A libvirt host to run VMs on: `vm()...start({ on: libvirt("qemu:///system") })`.
 *
 * @example
 * ```ts
 * await using m = await vm().memory(256).kernel(k, { initrd, append }).start({ on: libvirt("qemu+ssh://root@host/system") });
 * ```
 * @throws {LibvirtError} `LIBVIRT_CONNECT` for a URI qemukit cannot use.
 */
export function libvirt(uri: string, options: LibvirtOptions = {}): LibvirtHost {
  return new LibvirtHost(uri, options);
}

/** Throws a clear error when a host is not a LibvirtHost (a plain string was passed). */
export function asHost(h: LibvirtHost | string): LibvirtHost {
  if (typeof h === "string") return new LibvirtHost(h);
  if (!(h instanceof LibvirtHost)) {
    throw new LibvirtError("LIBVIRT_CONNECT", "expected a libvirt host", { advice: 'pass libvirt("qemu:///system")' });
  }
  return h;
}
