/**
 * Reads the host's virtualization facts from the filesystem: /proc/cpuinfo, /sys/module,
 * /dev/kvm, /etc/passwd and /etc/group. Everything is read relative to a root so tests can
 * point it at a fixture tree (a KVM-PVM host cannot be produced on demand).
 * @module
 */
import { constants } from "node:fs";
import { open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseCpuinfo } from "./cpuinfo.ts";
import type { DevKvmFacts, HostFacts, KvmModule } from "./types.ts";

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Loaded kernel modules whose name starts with `kvm` (kvm, kvm_intel, kvm_amd, kvm_pvm...). */
export async function readKvmModules(root: string): Promise<KvmModule[]> {
  let names: string[];
  try {
    names = await readdir(join(root, "sys/module"));
  } catch {
    return [];
  }
  const modules: KvmModule[] = [];
  for (const name of names.filter((n) => /^kvm(_|$)/.test(n)).sort()) {
    const nested = (await readText(join(root, "sys/module", name, "parameters/nested")))?.trim();
    modules.push(nested === undefined ? { name } : { name, nested });
  }
  return modules;
}

function modeString(mode: number): string {
  const type = (mode & 0o170000) === 0o020000 ? "c" : (mode & 0o170000) === 0o040000 ? "d" : "-";
  const bits = "rwxrwxrwx";
  let s = type;
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : "-";
  return s;
}

function nameFor(table: string | undefined, id: number): string | undefined {
  for (const line of (table ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && Number(f[2]) === id) return f[0];
  }
  return undefined;
}

function groupMembers(table: string | undefined, gid: number): string[] {
  for (const line of (table ?? "").split("\n")) {
    const f = line.split(":");
    if (f.length >= 4 && Number(f[2]) === gid) return f[3]!.split(",").filter(Boolean);
  }
  return [];
}

/** Stats /dev/kvm under `root` and tries to open it read-write as the current user. */
export async function readDevKvm(root: string): Promise<DevKvmFacts> {
  const path = join(root, "dev/kvm");
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch {
    return { path, exists: false };
  }
  const [passwd, group] = await Promise.all([readText(join(root, "etc/passwd")), readText(join(root, "etc/group"))]);
  let openable = false;
  let openError: string | undefined;
  try {
    // O_NONBLOCK so a fixture FIFO or an odd device can never block the check.
    const fh = await open(path, constants.O_RDWR | constants.O_NONBLOCK);
    await fh.close();
    openable = true;
  } catch (e) {
    openError = (e as NodeJS.ErrnoException).code ?? String(e);
  }
  const uid = process.getuid?.() ?? -1;
  const groups = process.getgroups?.() ?? [];
  const user = nameFor(passwd, uid);
  const userInGroup =
    uid === 0 || groups.includes(st.gid) || (user !== undefined && groupMembers(group, st.gid).includes(user));
  return {
    path,
    exists: true,
    isCharDevice: st.isCharacterDevice(),
    mode: modeString(st.mode),
    uid: st.uid,
    gid: st.gid,
    owner: nameFor(passwd, st.uid),
    group: nameFor(group, st.gid),
    openable,
    ...(openError ? { openError } : {}),
    userInGroup,
  };
}

/**
 * Reads every filesystem fact the host check needs; starts no process.
 *
 * @example
 * ```ts
 * const facts = await readHostFacts();          // the real machine
 * const pvm = await readHostFacts("/tmp/fixture"); // a fixture tree with proc/, sys/, dev/
 * ```
 */
export async function readHostFacts(root = "/"): Promise<HostFacts> {
  const [cpuinfo, bootId, modules, devKvm] = await Promise.all([
    readText(join(root, "proc/cpuinfo")),
    readText(join(root, "proc/sys/kernel/random/boot_id")),
    readKvmModules(root),
    readDevKvm(root),
  ]);
  return { root, bootId: bootId?.trim() || undefined, cpu: parseCpuinfo(cpuinfo ?? ""), modules, devKvm };
}
