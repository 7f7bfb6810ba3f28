/**
 * Walks a backing chain layer by layer, before any qemu-img call that would open it.
 * qemu-img's own loop check compares file names, so a chain that loops through a hard
 * link or a symlink sends `qemu-img check` into unbounded recursion; here layers are
 * compared by device + inode. qcow2 layers are read directly (the backing file name and
 * format sit in the documented header), which keeps the overlay hot path at one qemu-img
 * call; other formats with backing files (qed, vmdk) ask `qemu-img info -U`.
 * @module
 */
import { closeSync, openSync, readSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { ImageError } from "./errors.ts";
import { detectFormat } from "./detect.ts";
import { isImageFormat, type ImageFormat } from "./formats.ts";
import { parseJsonLossless } from "../util/json.ts";
import { statImage, statMaybe } from "./paths.ts";
import { runQemuImg } from "./run.ts";

/** One layer of a backing chain. */
export interface ChainLayer {
  /** Absolute path of the layer. */
  readonly path: string;
  /** Its format (explicit for the top, recorded in the parent's header below that). */
  readonly format: ImageFormat;
  /** Device and inode, to recognise the same file under another name. */
  readonly dev: number;
  readonly ino: number;
  /** Backing file name exactly as stored in the layer, if any. */
  readonly backingName?: string;
}

/** qcow2 header fields this walker needs. */
interface Qcow2Backing {
  readonly name?: string;
  readonly format?: string;
}

const QCOW2_MAGIC = 0x514649fb;
const EXT_BACKING_FORMAT = 0xe2792aca;

/** Reads the backing file name and format from a qcow2 header. */
async function readQcow2Backing(path: string, shownAs: string): Promise<Qcow2Backing> {
  // sync reads: two small preads, cheaper than two thread-pool round trips (see paths.ts)
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(4096);
    const bytesRead = readSync(fd, head, 0, head.length, 0);
    if (bytesRead < 72 || head.readUInt32BE(0) !== QCOW2_MAGIC) {
      throw new ImageError("IMAGE_FORMAT", `${shownAs} is not a qcow2 image (no qcow2 header)`, {
        advice: "name the format the file really has",
        details: { path: shownAs },
      });
    }
    const version = head.readUInt32BE(4);
    const nameOffset = Number(head.readBigUInt64BE(8));
    const nameSize = head.readUInt32BE(16);
    if (nameOffset === 0 || nameSize === 0) return {};
    const nameBuf = Buffer.alloc(Math.min(nameSize, 4096));
    readSync(fd, nameBuf, 0, nameBuf.length, nameOffset);
    const name = nameBuf.toString("utf8");
    let format: string | undefined;
    let off = version >= 3 ? head.readUInt32BE(100) : 72;
    while (off + 8 <= bytesRead) {
      const type = head.readUInt32BE(off);
      const len = head.readUInt32BE(off + 4);
      if (type === 0) break;
      if (type === EXT_BACKING_FORMAT) {
        format = head.toString("utf8", off + 8, Math.min(off + 8 + len, bytesRead));
        break;
      }
      off += 8 + Math.ceil(len / 8) * 8;
    }
    return { name, format };
  } finally {
    closeSync(fd);
  }
}

/** Asks qemu-img for one layer's backing file (formats other than qcow2). */
async function qemuImgBacking(path: string, format: ImageFormat, shownAs: string): Promise<Qcow2Backing> {
  const { stdout } = await runQemuImg(["info", "-U", "--output=json", "-f", format, path], {
    op: "info",
    path: shownAs,
    format,
  });
  const j = parseJsonLossless(stdout) as Record<string, unknown>;
  const name = j["backing-filename"];
  const fmt = j["backing-filename-format"];
  return {
    name: typeof name === "string" ? name : undefined,
    format: typeof fmt === "string" ? fmt : undefined,
  };
}

/** True for names qemu would treat as a protocol (`nbd:...`, `json:{...}`), which are not files. */
function isProtocol(name: string): boolean {
  const colon = name.indexOf(":");
  return colon > 0 && !name.slice(0, colon).includes("/");
}

/**
 * Lists the layers of `path`'s backing chain, top first.
 *
 * @example
 * ```ts
 * const layers = await walkChain("/vms/web1.qcow2", "qcow2");
 * layers.map((l) => l.path); // ["/vms/web1.qcow2", "/images/debian-12.qcow2"]
 * ```
 * @throws {ImageError} BACKING_MISSING, BACKING_LOOP, IMAGE_NOT_FOUND, IMAGE_FORMAT
 */
export async function walkChain(
  path: string,
  format: ImageFormat,
  options: { maxDepth?: number } = {},
): Promise<ChainLayer[]> {
  const maxDepth = options.maxDepth ?? 256;
  const layers: ChainLayer[] = [];
  let current = resolve(path);
  let currentFormat: ImageFormat = format;
  let st = await statImage(current, "image");
  for (;;) {
    const backing =
      currentFormat === "qcow2"
        ? await readQcow2Backing(current, layers.length ? current : path)
        : currentFormat === "qed" || currentFormat === "vmdk"
          ? await qemuImgBacking(current, currentFormat, current)
          : {};
    layers.push({ path: current, format: currentFormat, dev: st.dev, ino: st.ino, backingName: backing.name });
    if (!backing.name || isProtocol(backing.name)) return layers;
    const next = isAbsolute(backing.name) ? backing.name : resolve(dirname(current), backing.name);
    const nextSt = await statMaybe(next);
    if (!nextSt) {
      throw new ImageError(
        "BACKING_MISSING",
        `backing file ${backing.name} of ${current} does not exist (looked at ${next})`,
        {
          advice:
            "restore it there, or point the image at its new location with " +
            "image.rebase(image, newBase, { unsafe: true, backingFormat })",
          details: { path: current, backing: backing.name, resolved: next },
        },
      );
    }
    const seen = layers.find((l) => l.dev === nextSt.dev && l.ino === nextSt.ino);
    if (seen || layers.length >= maxDepth) {
      throw new ImageError(
        "BACKING_LOOP",
        seen
          ? `the backing chain of ${path} loops: ${current} is backed by ${next}, which is ${seen.path}`
          : `the backing chain of ${path} is deeper than ${maxDepth} layers`,
        {
          advice:
            "repair the chain with image.rebase(layer, otherBase, { unsafe: true }) so no layer points back at another",
          details: { path, layers: layers.map((l) => l.path), next },
        },
      );
    }
    const nextFormat = backing.format ?? (await detectFormat(next));
    if (!isImageFormat(nextFormat)) {
      throw new ImageError(
        "IMAGE_FORMAT",
        `backing file ${next} has format ${nextFormat}, which qemukit does not handle`,
        {
          details: { path: next, format: nextFormat },
        },
      );
    }
    current = next;
    currentFormat = nextFormat;
    st = nextSt;
  }
}
