/**
 * Debian's cloud kernel, fetched as a package and unpacked (never installed on the host).
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { downloadAndExtract } from "./debian-packages.ts";
import { loadOrder, moduleDepends, moduleName } from "./kmod.ts";

/** An unpacked kernel package. */
export interface UnpackedKernel {
  readonly release: string;
  readonly vmlinuz: string;
  readonly config: string;
  /** Module name -> absolute .ko path. */
  readonly modules: ReadonlyMap<string, string>;
}

async function walk(dir: string, out: Map<string, string>): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (/\.ko(\.(xz|zst|gz))?$/.test(e.name)) out.set(moduleName(e.name), p);
  }
}

/** Downloads `linux-image-<release>` into `work` and unpacks it. */
export async function fetchKernel(guest: string, pkg: string, release: string, work: string): Promise<UnpackedKernel> {
  const root = join(work, "root");
  await downloadAndExtract(guest, [pkg], work, root);
  return kernelIn(root, release);
}

/** The kernel `release` as installed in a root file system tree. */
export async function kernelIn(root: string, release: string): Promise<UnpackedKernel> {
  const modules = new Map<string, string>();
  await walk(join(root, "lib/modules", release, "kernel"), modules);
  return {
    release,
    vmlinuz: join(root, "boot", `vmlinuz-${release}`),
    config: join(root, "boot", `config-${release}`),
    modules,
  };
}

/**
 * The modules to load (in order) for `wanted`, skipping those built into the kernel.
 * Compressed modules are refused: bookworm ships them uncompressed
 * (CONFIG_MODULE_COMPRESS_NONE), and busybox insmod could not load them otherwise.
 */
export async function moduleClosure(
  kernel: UnpackedKernel,
  wanted: readonly string[],
): Promise<{ name: string; path: string }[]> {
  const deps = new Map<string, string[]>();
  const present = wanted.filter((m) => kernel.modules.has(m));
  const dependsOf = (m: string): string[] => deps.get(m) ?? [];
  // Read dependencies breadth-first first, since loadOrder's callback is synchronous.
  const queue = [...present];
  while (queue.length) {
    const m = queue.shift()!;
    if (deps.has(m)) continue;
    const path = kernel.modules.get(m);
    if (!path) {
      deps.set(m, []);
      continue;
    }
    if (!path.endsWith(".ko")) throw new Error(`compressed kernel module ${path} is not supported`);
    const d = moduleDepends(await readFile(path)).filter((x) => kernel.modules.has(x));
    deps.set(m, d);
    queue.push(...d);
  }
  return loadOrder(present, dependsOf).map((name) => ({ name, path: kernel.modules.get(name)! }));
}

/** Reads `CONFIG_X=y|m` values from a kernel config file. */
export async function kernelConfig(path: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const line of (await readFile(path, "utf8")).split("\n")) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}
