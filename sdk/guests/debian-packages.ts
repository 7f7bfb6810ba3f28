/**
 * Debian package look-ups and downloads through apt's own clients (apt-cache,
 * apt-get download, dpkg-deb, dpkg-query).
 * @module
 */
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { cacheDir } from "../util/dirs.ts";
import { join } from "node:path";
import { ProcessError, ToolNotFoundError } from "../errors/errors.ts";
import { exec } from "../util/exec.ts";
import { GuestBuildError, looksLikeDiskFull, looksLikeNetworkFailure } from "./errors.ts";

/**
 * Runs a build tool, turning its failures into the errors a user can act on:
 * a missing program names its Debian package (from the programs table), an unreachable mirror becomes
 * `GUEST_NETWORK`, a full disk `GUEST_DISK_FULL`.
 */
export async function buildTool(guest: string, argv: readonly string[], options: Parameters<typeof exec>[1] = {}) {
  try {
    return await exec(argv, options);
  } catch (e) {
    if (e instanceof ToolNotFoundError) throw e;
    const stderr = e instanceof ProcessError ? e.stderr : String(e);
    if (looksLikeNetworkFailure(stderr)) {
      throw new GuestBuildError(guest, `${argv[0]} could not reach Debian's package registry`, {
        code: "GUEST_NETWORK",
        cause: e,
        advice:
          "check the network and /etc/apt/sources.list (deb.debian.org must be reachable), run `apt-get update`, then retry",
      });
    }
    if (looksLikeDiskFull(e, stderr)) throw diskFull(guest, e);
    throw e;
  }
}

/** The error for a full disk during a build. */
export function diskFull(guest: string, cause: unknown): GuestBuildError {
  return new GuestBuildError(guest, "the disk is full", {
    code: "GUEST_DISK_FULL",
    cause,
    advice:
      "free some space in the cache directory (or point QEMUKIT_CACHE elsewhere) and retry; the partial build was removed",
  });
}

/** Installed version of a host package, or throws ToolNotFoundError-style advice. */
export async function installedVersions(guest: string, packages: readonly string[]): Promise<Record<string, string>> {
  const r = await buildTool(
    guest,
    ["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Status}\n", ...packages],
    {
      reject: false,
    },
  );
  const out: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const [name, version, status] = line.split(" ");
    if (name && version && status === "installed") out[name] = version;
  }
  const missing = packages.filter((p) => !out[p]);
  if (missing.length) {
    throw new GuestBuildError(guest, `needed Debian packages are not installed: ${missing.join(", ")}`, {
      code: "GUEST_BUILD",
      advice: `install them with: sudo apt-get install ${missing.join(" ")}   (or run: npm run setup)`,
      details: { missing },
    });
  }
  return out;
}

/** A package as apt would download it now. */
export interface AptCandidate {
  readonly name: string;
  readonly version: string;
  readonly depends: string;
}

const memo = new Map<string, Promise<AptCandidate>>();

/** Stat stamps that change whenever `apt-get update` changes what apt-cache would answer. */
async function aptStamp(): Promise<string> {
  const parts: string[] = [];
  for (const p of [
    "/var/lib/apt/lists",
    "/var/cache/apt/pkgcache.bin",
    "/etc/apt/sources.list",
    "/etc/apt/sources.list.d",
  ]) {
    parts.push(
      String(
        await stat(p).then(
          (s) => s.mtimeMs,
          () => 0,
        ),
      ),
    );
  }
  return parts.join(":");
}

/**
 * apt's candidate for a package, from the local package lists (no network).
 * apt-cache takes about a second on a busy machine, and a cached guest must be
 * instant, so answers are kept in `cacheDir()/guests/apt-candidates.json`, valid
 * while apt's lists and sources are unchanged.
 */
export function aptCandidate(guest: string, pkg: string): Promise<AptCandidate> {
  let p = memo.get(pkg);
  if (!p) {
    p = cachedCandidate(guest, pkg);
    memo.set(pkg, p);
    p.catch(() => memo.delete(pkg));
  }
  return p;
}

async function cachedCandidate(guest: string, pkg: string): Promise<AptCandidate> {
  const file = join(cacheDir(), "guests", "apt-candidates.json");
  const stamp = await aptStamp();
  let saved: { stamp?: string; candidates?: Record<string, AptCandidate> } = {};
  try {
    saved = JSON.parse(await readFile(file, "utf8"));
  } catch {
    /* first use */
  }
  if (saved.stamp === stamp && saved.candidates?.[pkg]) return saved.candidates[pkg]!;
  const fresh = await askAptCache(guest, pkg);
  const candidates = saved.stamp === stamp ? { ...saved.candidates, [pkg]: fresh } : { [pkg]: fresh };
  try {
    await mkdir(join(cacheDir(), "guests"), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ stamp, candidates }, null, 2));
    await rename(tmp, file);
  } catch {
    /* a read-only cache only costs speed */
  }
  return fresh;
}

async function askAptCache(guest: string, pkg: string): Promise<AptCandidate> {
  const r = await buildTool(guest, ["apt-cache", "show", "--no-all-versions", pkg], { reject: false });
  const version = /^Version: (.+)$/m.exec(r.stdout)?.[1];
  if (r.exitCode !== 0 || !version) {
    throw new GuestBuildError(guest, `apt knows no package ${pkg}`, {
      code: "GUEST_NETWORK",
      advice: "run `apt-get update` (with deb.debian.org bookworm and bookworm-security in sources.list), then retry",
      details: { stderr: r.stderr },
    });
  }
  return { name: pkg, version, depends: /^Depends: (.+)$/m.exec(r.stdout)?.[1] ?? "" };
}

/** The versioned kernel package behind Debian's cloud kernel metapackage. */
export async function cloudKernelPackage(guest: string): Promise<AptCandidate & { release: string }> {
  return kernelPackage(guest, "cloud-amd64");
}

/**
 * The versioned kernel package behind `linux-image-<flavour>`: "cloud-amd64" (small, but
 * without e1000, QEMU's default NIC) or "amd64" (Debian's generic kernel, which has it).
 */
export async function kernelPackage(
  guest: string,
  flavour: "cloud-amd64" | "amd64",
): Promise<AptCandidate & { release: string }> {
  const meta = await aptCandidate(guest, `linux-image-${flavour}`);
  const name = new RegExp(`(linux-image-(\\d[^\\s,]*-${flavour}))(?:[\\s,]|$)`).exec(meta.depends);
  if (!name) throw new GuestBuildError(guest, `cannot read the kernel package from: ${meta.depends}`);
  const pkg = await aptCandidate(guest, name[1]!);
  return { ...pkg, release: name[2]! };
}

/**
 * Downloads `.deb` files into `dir` (apt-get download) and unpacks each into `into`.
 * Returns the downloaded file names.
 */
export async function downloadAndExtract(
  guest: string,
  packages: readonly string[],
  dir: string,
  into: string,
): Promise<string[]> {
  // As root, apt drops to the _apt user, which cannot write our private temp dir.
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const sandbox = asRoot ? ["-o", "APT::Sandbox::User=root"] : [];
  await buildTool(guest, ["apt-get", "download", "-q", ...sandbox, ...packages], { cwd: dir });
  const debs = (await readdir(dir)).filter((f) => f.endsWith(".deb"));
  for (const deb of debs) await buildTool(guest, ["dpkg-deb", "-x", join(dir, deb), into]);
  return debs;
}
