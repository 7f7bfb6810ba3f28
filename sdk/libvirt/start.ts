/**
 * Starting a spec as a libvirt domain, and finding qemukit's domains again (`list`,
 * `attach`). The domain starts paused; qemukit connects its monitor and console, then
 * resumes it, so no early console output is lost (as with a direct start).
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import type { Duplex } from "node:stream";
import { AbortError, QemukitError } from "../errors/errors.ts";
import { onAbort } from "../util/abort.ts";
import { detectFormat } from "../img/detect.ts";
import { info as imageInfo } from "../img/info.ts";
import { overlay as createOverlay } from "../img/overlay.ts";
import { Console } from "../machine/console.ts";
import { VmError, VmStartError } from "../machine/errors.ts";
import { generateName } from "../machine/run-dir.ts";
import { queryVnc } from "../machine/running-vm.ts";
import type { StartOptions } from "../machine/start.ts";
import { QmpClient } from "../qmp/mod.ts";
import type { ImageFormat, VmSpec } from "../spec/types.ts";
import { openHostSocket, type VirshSession } from "./connection.ts";
import { compileDomain, type PlacedDisk } from "./domain.ts";
import { LibvirtError } from "./errors.ts";
import { checkLibvirtSupport } from "./features.ts";
import { asHost, type LibvirtHost } from "./host.ts";
import { LibvirtVm } from "./libvirt-vm.ts";
import { xmlText } from "./xml.ts";

const DEFAULT_TIMEOUT = 30_000;

/** Options of `vm()...start({ on: libvirt(uri) })`: the direct start's options plus the host. */
export interface LibvirtStartOptions extends StartOptions {
  /** The libvirt host to run on. */
  readonly on: LibvirtHost;
}

/** What a start placed on the host, to undo. */
interface Placement {
  disks: PlacedDisk[];
  kernel?: { kernel: string; initrd?: string };
  volumes: string[];
  runDir: string;
  qmpSocket?: string;
  consoleSocket?: string;
  /** Local directory for the domain XML (and local overlays). */
  localDir: string;
}

async function placeLocal(spec: VmSpec, localDir: string): Promise<Placement> {
  const disks: PlacedDisk[] = [];
  for (const [i, d] of spec.disks.entries()) {
    if (d.source.kind === "file") {
      disks.push({ path: resolvePath(d.source.path), format: d.source.format });
      continue;
    }
    const base = resolvePath(d.source.base);
    const baseFormat = d.source.baseFormat ?? (await detectFormat(base));
    const path = d.source.path ? resolvePath(d.source.path) : join(localDir, `disk${i}.qcow2`);
    await createOverlay(base, path, { baseFormat });
    disks.push({ path, format: "qcow2" });
  }
  return { disks, volumes: [], runDir: localDir, localDir };
}

async function placeRemote(spec: VmSpec, name: string, host: LibvirtHost, localDir: string): Promise<Placement> {
  const dir = await host.ensurePool();
  const placement: Placement = {
    disks: [],
    volumes: [],
    runDir: dir,
    qmpSocket: `${dir}/qk-${name}.qmp`,
    consoleSocket: `${dir}/qk-${name}.console`,
    localDir,
  };
  try {
    for (const [i, d] of spec.disks.entries()) {
      if (d.source.kind === "file") {
        const up = await host.uploadBase(resolvePath(d.source.path), d.source.format);
        placement.disks.push({ path: up.path, format: d.source.format });
        continue;
      }
      const base = resolvePath(d.source.base);
      const baseFormat: ImageFormat = d.source.baseFormat ?? (await detectFormat(base));
      const up = await host.uploadBase(base, baseFormat);
      const size = (await imageInfo(base, { format: baseFormat })).virtualSize;
      const vol = `qk-${name}-disk${i}.qcow2`;
      const path = await host.createOverlay(vol, up.name, baseFormat, size);
      placement.volumes.push(vol);
      placement.disks.push({ path, format: "qcow2" });
    }
    if (spec.kernel) {
      const k = await host.uploadBase(resolvePath(spec.kernel.kernel), "raw");
      const i = spec.kernel.initrd ? await host.uploadBase(resolvePath(spec.kernel.initrd), "raw") : undefined;
      placement.kernel = { kernel: k.path, ...(i ? { initrd: i.path } : {}) };
    }
  } catch (e) {
    await host.deleteVolumes(placement.volumes);
    throw e;
  }
  return placement;
}

/**
 * Starts `spec` as a libvirt domain on `host` and returns its handle once QEMU runs (and,
 * with `waitFor`, once the guest is ready). Without `daemonize`, the domain is created with
 * `--autodestroy` on a virsh connection this process holds: it ends with the script.
 *
 * @example
 * ```ts
 * await using m = await startOnLibvirt(vm().memory(256).kernel(k, { initrd, append }).spec, libvirt("qemu:///system"));
 * ```
 * @throws {LibvirtError} `LIBVIRT_UNSUPPORTED` before anything starts, for a feature libvirt cannot run.
 * @throws {VmStartError} when libvirt or QEMU refused the domain; nothing is left behind.
 */
export async function startOnLibvirt(
  spec: VmSpec,
  on: LibvirtHost | string,
  options: StartOptions = {},
): Promise<LibvirtVm> {
  const userHost = asHost(on);
  const { signal } = options;
  const name = spec.name ?? generateName();
  checkLibvirtSupport(spec, { remote: userHost.remote });
  compileDomain({ ...spec, name }, { remote: userHost.remote }); // refuse before any I/O
  if (signal?.aborted) throw new AbortError(`starting VM "${name}"`, { cause: signal.reason });
  const deadline = Date.now() + (options.timeout ?? DEFAULT_TIMEOUT);
  const keep = options.keep ?? spec.keep;
  const localDir = await mkdtemp(join(options.runDir ?? tmpdir(), "qk-lv-"));
  let placement: Placement | undefined;
  // One virsh session carries every command of this VM (and, without daemonize, holds its
  // --autodestroy lifetime): over ssh that is one login instead of one per command.
  let session: VirshSession | undefined;
  let host = userHost;
  let created = false;
  let qmp: QmpClient | undefined;
  let serial: Console | undefined;
  const undo = async (keepFiles: boolean) => {
    await serial?.close().catch(() => {});
    if (created) await host.destroy(name).catch(() => {});
    if (!keepFiles) {
      if (placement) await host.deleteVolumes(placement.volumes).catch(() => {});
      await rm(localDir, { recursive: true, force: true });
    }
    await session?.close().catch(() => {});
  };
  let argv: string[] = [];
  // Aborting destroys the domain once it exists: whatever start() waits for then fails at
  // once and the catch blocks below clean up as for any failed start.
  let aborted = false;
  let handedOver = false;
  const unlisten = onAbort(signal, () => {
    aborted = true;
    if (created) void host.destroy(name).catch(() => {});
  });
  const step = () => {
    if (aborted) throw new AbortError(`starting VM "${name}"`, { cause: signal?.reason });
  };
  try {
    // The session's virsh starts while local overlays are made.
    const [opened, local] = await Promise.allSettled([
      userHost.session(),
      userHost.remote ? undefined : placeLocal(spec, localDir),
    ]);
    if (opened.status === "fulfilled") session = opened.value;
    if (opened.status === "rejected") throw opened.reason;
    if (local.status === "rejected") throw local.reason;
    host = userHost.through(session!);
    placement = host.remote ? await placeRemote(spec, name, host, localDir) : local.value!;
    const vncPassword = spec.vnc?.password ? randomBytes(6).toString("base64url").slice(0, 8) : undefined;
    const domain = compileDomain(
      { ...spec, name },
      {
        runDir: placement.runDir,
        disks: placement.disks,
        ...(placement.kernel ? { kernel: placement.kernel } : {}),
        ...(placement.qmpSocket ? { qmpSocket: placement.qmpSocket } : {}),
        ...(placement.consoleSocket ? { consoleSocket: placement.consoleSocket } : {}),
        remote: host.remote,
        volumes: placement.volumes,
        autodestroy: !spec.daemonize,
        ...(vncPassword ? { vncPassword } : {}),
      },
    );
    const xmlFile = join(localDir, "domain.xml");
    await writeFile(xmlFile, domain.xml);
    argv = ["virsh", "-c", host.uri, "create", xmlFile, "--paused", ...(spec.daemonize ? [] : ["--autodestroy"])];
    step();
    // Locally, qemukit's sockets are connected while libvirt is still preparing the domain
    // (QEMU makes the QMP socket as it starts, libvirt the console's before that): the
    // handshake overlaps `virsh create` instead of following it.
    const stopEarly = new AbortController();
    const early = host.remote ? undefined : connectSockets(host, domain, deadline, stopEarly.signal);
    early?.catch(() => {});
    try {
      await host.virsh(["create", xmlFile, "--paused", ...(spec.daemonize ? [] : ["--autodestroy"])]);
    } catch (e) {
      stopEarly.abort();
      await early?.then(
        (c) => Promise.all([c.qmp.close(), c.console?.destroy()]),
        () => {},
      );
      throw e;
    }
    created = true;
    let connected = early ? await early : undefined;
    if (connected) qmp = connected.qmp;
    await rm(xmlFile, { force: true }); // libvirt has the XML now; `virsh dumpxml NAME` shows it
    // A remote domain keeps nothing here (its console has no local log).
    if (host.remote) await rm(localDir, { recursive: true, force: true });
    step();
    if (spec.daemonize) {
      // The domain outlives this script: its session is not needed to keep it.
      await session?.close();
      session = undefined;
      host = userHost;
    }
    connected ??= await connectSockets(host, domain, deadline);
    qmp = connected.qmp;
    const consoleStream = connected.console;
    if (consoleStream) {
      serial = new Console(consoleStream, { ...(host.remote ? {} : { logFile: join(localDir, "console.log") }) });
    }
    const vnc = spec.vnc ? await queryVnc(qmp) : undefined;
    step();
    const held = session;
    const vm = new LibvirtVm({
      name,
      host,
      userHost,
      qmp,
      ...(serial ? { console: serial } : {}),
      ...(vnc ? { vnc } : {}),
      state: "paused",
      daemonized: spec.daemonize,
      keep,
      cleanup: async (keepFiles) => {
        created = false;
        session = held;
        await undo(keepFiles);
      },
    });
    handedOver = true;
    try {
      const ready = options.waitFor ? options.waitFor.wait(vm, signal ? { signal } : {}) : undefined;
      ready?.catch(() => {});
      if (!options.paused) await vm.resume();
      if (ready) {
        await Promise.race([
          ready,
          vm.exited.then((e) => {
            throw new VmError("VM_EXITED", `QEMU exited (${e.reason}) before the guest was ready`, {
              advice: "read the console transcript (m.console.transcript)",
            });
          }),
        ]);
      }
    } catch (e) {
      const transcript = vm.hasConsole ? vm.console.transcript.slice(-2000) : undefined;
      vm.keep = keep;
      await vm.kill();
      if (signal?.aborted) throw new AbortError(`starting VM "${name}"`, { cause: signal.reason });
      const what = options.waitFor ? options.waitFor.description : "the VM";
      throw new VmStartError(`the guest did not become ready (${what}): ${(e as Error).message}`, argv, "", {
        cause: e,
        details: { console: transcript },
      });
    }
    return vm;
  } catch (e) {
    if (e instanceof VmStartError || e instanceof AbortError) {
      if (e instanceof AbortError && !handedOver) {
        await qmp?.close().catch(() => {});
        await undo(keep);
      }
      throw e;
    }
    await qmp?.close().catch(() => {});
    await undo(keep);
    if (aborted) throw new AbortError(`starting VM "${name}"`, { cause: signal?.reason });
    if (e instanceof LibvirtError && e.code === "LIBVIRT_UNSUPPORTED") throw e;
    const said = e instanceof QemukitError ? e.summary : (e as Error).message;
    throw new VmStartError(`could not start "${name}" on ${host.uri}: ${said}`, argv, "", {
      cause: e,
      ...(e instanceof QemukitError && e.advice ? { advice: e.advice } : {}),
    });
  } finally {
    unlisten();
  }
}

/**
 * qemukit's QMP monitor (handshake done) and console stream of a domain; a stream that
 * opened is closed again when the other fails.
 */
async function connectSockets(
  host: LibvirtHost,
  domain: { qmpSocket: string; consoleSocket?: string },
  deadline: number,
  signal?: AbortSignal,
): Promise<{ qmp: QmpClient; console?: Duplex }> {
  const [q, c] = await Promise.allSettled([
    openHostSocket(host.target, domain.qmpSocket, deadline, signal).then((stream) =>
      QmpClient.connect(stream, { timeout: Math.max(1000, deadline - Date.now()) }),
    ),
    domain.consoleSocket ? openHostSocket(host.target, domain.consoleSocket, deadline, signal) : undefined,
  ]);
  if (q.status === "rejected" || c.status === "rejected") {
    if (q.status === "fulfilled") await q.value.close().catch(() => {});
    if (c.status === "fulfilled") c.value?.destroy();
    throw q.status === "rejected" ? q.reason : (c as PromiseRejectedResult).reason;
  }
  return { qmp: q.value, ...(c.value ? { console: c.value } : {}) };
}

/** One qemukit domain on a libvirt host, as {@link listOnLibvirt} finds it. */
export interface LibvirtListing {
  readonly name: string;
  readonly uri: string;
  readonly qmpSocket: string;
  readonly consoleSocket?: string;
  /** Ends with the connection of the script that started it. */
  readonly autodestroy: boolean;
  /** Overlay volumes qemukit made for it. */
  readonly volumes: readonly string[];
  /** The directory of its sockets (a private temp directory for local domains). */
  readonly runDir?: string;
}

function readMetadata(xml: string, name: string, uri: string): LibvirtListing | undefined {
  const meta = /<qemukit:vm[\s\S]*?<\/qemukit:vm>/.exec(xml)?.[0];
  if (!meta) return undefined;
  const qmpSocket = xmlText(meta, "qemukit:qmp");
  if (!qmpSocket) return undefined;
  const consoleSocket = xmlText(meta, "qemukit:console");
  const volumes = [...meta.matchAll(/<qemukit:volume>([^<]*)<\/qemukit:volume>/g)].map((m) => m[1]!);
  const runDir = xmlText(meta, "qemukit:rundir");
  return {
    name,
    uri,
    qmpSocket,
    ...(consoleSocket ? { consoleSocket } : {}),
    autodestroy: /<qemukit:autodestroy>yes</.test(meta),
    volumes,
    ...(runDir ? { runDir } : {}),
  };
}

/**
 * The running domains on `host` that qemukit started (read from their metadata).
 *
 * @example
 * ```ts
 * for (const d of await listOnLibvirt(libvirt("qemu:///system"))) console.log(d.name);
 * ```
 */
export async function listOnLibvirt(on: LibvirtHost | string): Promise<LibvirtListing[]> {
  const host = asHost(on);
  const s = await host.session();
  try {
    const names = (await s.run(["list", "--name"])).split("\n").filter(Boolean);
    const out: LibvirtListing[] = [];
    for (const n of names) {
      const xml = await s.run(["dumpxml", n]).catch(() => "");
      const l = readMetadata(xml, n, host.uri);
      if (l) out.push(l);
    }
    return out;
  } finally {
    await s.close();
  }
}

/**
 * Connects to a running qemukit domain by name (its QMP monitor and console); the handle
 * removes the domain's overlay volumes once it exits.
 *
 * @example
 * ```ts
 * const m = await attachOnLibvirt("web1", libvirt("qemu:///system"));
 * await m.qmp.execute("query-status");
 * ```
 * @throws {LibvirtError} `LIBVIRT_NOT_FOUND` when no running domain of that name was started by qemukit.
 */
export async function attachOnLibvirt(
  name: string,
  on: LibvirtHost | string,
  options: { timeout?: number } = {},
): Promise<LibvirtVm> {
  const host = asHost(on);
  const xml = await host.virsh(["dumpxml", name]).catch(() => "");
  const l = xml ? readMetadata(xml, name, host.uri) : undefined;
  if (!l) {
    throw new LibvirtError("LIBVIRT_NOT_FOUND", `no running qemukit domain "${name}" on ${host.uri}`, {
      advice: `list them with listOnLibvirt(), or virsh -c '${host.uri}' list`,
    });
  }
  const deadline = Date.now() + (options.timeout ?? 5000);
  const qmp = await QmpClient.connect(await openHostSocket(host.target, l.qmpSocket, deadline), {
    timeout: Math.max(1000, deadline - Date.now()),
  });
  const serial = l.consoleSocket
    ? new Console(await openHostSocket(host.target, l.consoleSocket, deadline))
    : undefined;
  const status = await qmp.execute("query-status");
  const vnc = await queryVnc(qmp);
  return new LibvirtVm({
    name,
    host,
    userHost: host,
    qmp,
    ...(serial ? { console: serial } : {}),
    ...(vnc ? { vnc } : {}),
    state: status.running ? "running" : "paused",
    daemonized: !l.autodestroy,
    keep: false,
    cleanup: async (keep) => {
      await serial?.close().catch(() => {});
      if (keep) return;
      await host.deleteVolumes(l.volumes);
      // A local domain's private temp directory (console log, overlays), made by the start;
      // only a directory of that shape is removed.
      if (!host.remote && l.runDir && /\/qk-lv-[A-Za-z0-9]{6}$/.test(l.runDir)) {
        await rm(l.runDir, { recursive: true, force: true });
      }
    },
  });
}
