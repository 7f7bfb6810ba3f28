/**
 * Recipes through libvirt (`--on URI`): which host, refusing recipes that cannot run
 * there before anything starts, and reading disks where the VM runs (local files for a
 * local URI, storage volumes through libvirt for a remote one).
 * @module
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { image, type ImageInfo } from "../../sdk/mod.ts";
import { LibvirtError, type LibvirtHost, libvirt } from "../../sdk/libvirt/mod.ts";
import { sha256File } from "./hash.ts";
import type { Recipe, RecipeOptions } from "./types.ts";

/** Where a recipe's VMs ran, for its report. */
export interface RanOnLibvirt {
  /** The libvirt URI, as given with --on. */
  readonly uri: string;
  /** True for qemu+ssh://: the VMs and their disks were on another host. */
  readonly remote: boolean;
  /** The libvirt domains the recipe started. */
  readonly domains: readonly string[];
}

/**
 * Refuses `--on` for a recipe that has no libvirt path, and a URI qemukit cannot use,
 * before anything starts.
 *
 * @example
 * ```ts
 * checkOnLibvirt(recipes["start-vm"], "qemu:///system"); // fine
 * ```
 * @throws {LibvirtError} `LIBVIRT_UNSUPPORTED` for a recipe without a libvirt path, `LIBVIRT_CONNECT` for a bad URI.
 */
export function checkOnLibvirt(recipe: Recipe, uri: string): LibvirtHost {
  if (!recipe.meta.libvirt) {
    throw new LibvirtError(
      "LIBVIRT_UNSUPPORTED",
      `not supported on libvirt: the ${recipe.meta.id} recipe, because its steps run on this machine's QEMU directly (${recipe.meta.labCommands[0]})`,
      {
        advice: "run it without --on; start-vm and overlays run through libvirt",
        details: { feature: recipe.meta.id },
      },
    );
  }
  return libvirt(uri);
}

/** The libvirt host `options.on` names, or undefined for a direct run. */
export function libvirtHost(options: RecipeOptions): LibvirtHost | undefined {
  return options.on === undefined ? undefined : libvirt(options.on);
}

/** The file a domain's disk `dev` (e.g. "hda") uses, as a path on its host (`virsh domblklist`). */
export async function domainDisk(host: LibvirtHost, domain: string, dev: string): Promise<string> {
  const out = await host.virsh(["domblklist", domain]);
  for (const line of out.split("\n")) {
    const [target, ...source] = line.trim().split(/\s+/);
    if (target === dev && source.length) return source.join(" ");
  }
  throw new LibvirtError("LIBVIRT_NOT_FOUND", `domain ${domain} has no disk ${dev} on ${host.uri}`, {
    advice: `see virsh -c '${host.uri}' domblklist ${domain}`,
  });
}

/** One layer of a backing chain, overlay first. */
/** One layer of a backing chain, overlay first, as `qemu-img info --backing-chain` or libvirt shows it. */
export interface ChainEntry {
  readonly path: string;
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize: number;
  readonly backingFile: string | null;
  readonly backingFormat: string | null;
}

/** Reading disk images on the host a VM runs on. */
export interface HostDisks {
  /** Bytes the file takes on the host's disk (`du`). */
  du(path: string): Promise<number>;
  /** Its backing chain, overlay first (`qemu-img info --backing-chain`). */
  chain(path: string): Promise<ChainEntry[]>;
  /** sha256 of every byte and the length. */
  sha256(path: string): Promise<{ sha256: string; bytes: number }>;
}

/**
 * Disks on a local URI are files here: qemu-img and a streamed hash read them. On a remote
 * host they are volumes of qemukit's pool: libvirt reports sizes and the chain
 * (`vol-dumpxml`), and a hash needs the bytes, so the volume is downloaded into `scratch`
 * (`vol-download`), hashed and deleted.
 *
 * @example
 * ```ts
 * const disks = hostDisks(libvirt("qemu+ssh://root@host/system"), "/tmp/scratch");
 * await disks.du("/var/lib/libvirt/qemukit/qk-web1-disk0.qcow2");
 * ```
 */
export function hostDisks(host: LibvirtHost, scratch: string): HostDisks {
  if (!host.remote) {
    return {
      du: async (path) => Number((await image.du(path)).bytes),
      chain: async (path) => chainOf(await image.info(path, { backingChain: true })),
      sha256: sha256File,
    };
  }
  return {
    du: async (path) => (await host.volumeInfo(path)).allocation,
    async chain(path) {
      const out: ChainEntry[] = [];
      for (let p: string | undefined = path; p !== undefined && out.length < 16; ) {
        const v = await host.volumeInfo(p);
        out.push({
          path: v.path,
          format: v.format,
          virtualSize: v.capacity,
          actualSize: v.allocation,
          backingFile: v.backing?.path ?? null,
          backingFormat: v.backing?.format ?? null,
        });
        p = v.backing?.path;
      }
      return out;
    },
    async sha256(path) {
      const v = await host.volumeInfo(path);
      const file = join(scratch, `download-${v.name}`);
      try {
        await host.downloadVolume(v.name, file);
        return await sha256File(file);
      } finally {
        await rm(file, { force: true });
      }
    },
  };
}

/**
 * The chain `qemu-img info --backing-chain` read, as plain entries, overlay first.
 *
 * @example
 * ```ts
 * chainOf(await image.info("sda-vm1.qcow2", { backingChain: true }))[1]?.path; // the base
 * ```
 */
export function chainOf(info: ImageInfo): ChainEntry[] {
  const out: ChainEntry[] = [];
  for (let layer: ImageInfo | undefined = info; layer; layer = layer.backing) {
    out.push({
      path: layer.filename,
      format: layer.format,
      virtualSize: Number(layer.virtualSize),
      actualSize: Number(layer.actualSize ?? 0n),
      backingFile: layer.backingFilename ?? null,
      backingFormat: layer.backingFilenameFormat ?? null,
    });
  }
  return out;
}
