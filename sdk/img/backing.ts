/**
 * Shared by create, overlay and rebase: validates a new backing file and computes the
 * name to store for it.
 * @module
 */
import type { Stats } from "node:fs";
import { dirname, isAbsolute, relative } from "node:path";
import { walkChain, type ChainLayer } from "./chain.ts";
import { detectFormat } from "./detect.ts";
import { ImageError } from "./errors.ts";
import { BACKING_FORMATS, checkFormat, type ImageFormat } from "./formats.ts";
import { absPath, statImage } from "./paths.ts";

/** How an image records where its backing file is. */
export type BackingPathMode = "auto" | "absolute" | "relative";

/** A backing file checked and ready to be written into an image header. */
export interface PreparedBacking {
  /** Format of the backing file. */
  readonly format: ImageFormat;
  /** Name to store in the image (`-b`). */
  readonly name: string;
  /** Layers of the backing file's own chain, top first. */
  readonly layers: readonly Pick<ChainLayer, "path" | "dev" | "ino">[];
}

/**
 * QEMU reads a backing name with a colon before any slash (`nbd:host:1.qcow2`,
 * `json:{...}`) as a protocol; a leading `./` makes it the file it is.
 */
function unambiguous(relativeName: string): string {
  const colon = relativeName.indexOf(":");
  const slash = relativeName.indexOf("/");
  return colon >= 0 && (slash < 0 || colon < slash) ? `./${relativeName}` : relativeName;
}

/**
 * Checks `base` (exists, known format, chain has no missing file or loop, `image` is not
 * one of its layers) and returns the backing name to store in `image`. A relative name
 * is relative to the image's directory, as qcow2 resolves it.
 */
export async function prepareBacking(
  base: string,
  image: string,
  imageSt: Stats | undefined,
  options: { readonly format?: ImageFormat; readonly mode?: BackingPathMode },
): Promise<PreparedBacking> {
  const absBase = absPath(base);
  const given = options.format !== undefined ? checkFormat(options.format, "backing format") : undefined;
  const baseSt = await statImage(absBase, "backing file");
  const format = given ?? (await detectFormat(absBase));
  const layers = BACKING_FORMATS.includes(format)
    ? await walkChain(absBase, format)
    : [{ path: absBase, dev: baseSt.dev, ino: baseSt.ino }];
  if (imageSt) {
    const hit = layers.find((l) => l.dev === imageSt.dev && l.ino === imageSt.ino);
    if (hit) {
      throw new ImageError(
        "IMAGE_SAME_FILE",
        `${image} is ${hit.path === absBase ? "the backing file itself" : `${hit.path}, a layer of the backing chain`}`,
        {
          advice: "choose another path: writing it would destroy the backing chain (or make it loop)",
          details: { base, path: image, layer: hit.path },
        },
      );
    }
  }
  const mode = options.mode ?? "auto";
  const name =
    mode === "absolute" || (mode === "auto" && isAbsolute(base))
      ? absBase
      : unambiguous(relative(dirname(absPath(image)), absBase));
  return { format, name, layers };
}
