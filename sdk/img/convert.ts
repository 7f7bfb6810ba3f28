/**
 * `qemu-img convert` with progress, into a temp file renamed into place only on success.
 * @module
 */
import { walkChain } from "./chain.ts";
import { type FormatOptions, optionString, writesSideFiles } from "./create.ts";
import { detectFormat } from "./detect.ts";
import { ImageError } from "./errors.ts";
import { BACKING_FORMATS, checkFormat, type ImageFormat } from "./formats.ts";
import { dirname } from "node:path";
import {
  absPath,
  checkDestination,
  checkNotSame,
  commitTemp,
  guardTemp,
  makePrivate,
  removeQuietly,
  statImage,
  sweepStaleTemps,
  tempSibling,
} from "./paths.ts";
import { runQemuImg } from "./run.ts";

/** One progress report: qemu-img's `-p` percentage. */
export interface ConvertProgress {
  /** 0..100, as qemu-img prints it (two decimals). */
  readonly percent: number;
}

/** Options of {@link convert}. */
export interface ConvertOptions {
  /** Output format. @default "qcow2" */
  readonly format?: ImageFormat;
  /** Input format. Give it for disks a guest wrote; detected only when omitted. */
  readonly sourceFormat?: ImageFormat;
  /** Compress the output (qcow2; vmdk with subformat streamOptimized). @default false */
  readonly compress?: boolean;
  /** Replace an existing destination (never the source or a layer of its chain). @default false */
  readonly overwrite?: boolean;
  /** Called with each progress report. */
  readonly onProgress?: (p: ConvertProgress) => void;
  /** Aborting kills qemu-img, removes the temp file and rejects with IMAGE_ABORTED. */
  readonly signal?: AbortSignal;
  /** Output format options (`-o`), e.g. `{ subformat: "streamOptimized" }`, `{ cluster_size: 2097152 }`. */
  readonly options?: FormatOptions;
  /** Read a source a running VM holds (`-U`); the copy may be inconsistent. @default false */
  readonly shareLock?: boolean;
}

/** What {@link convert} produced. */
export interface ConvertResult {
  /** Absolute path of the destination. */
  readonly path: string;
  readonly format: ImageFormat;
  readonly sourceFormat: ImageFormat;
}

/**
 * A running conversion: await it for the result, or iterate it for progress reports.
 * Iteration ends when the conversion finishes, and throws if it failed.
 */
export class ConvertTask implements PromiseLike<ConvertResult>, AsyncIterable<ConvertProgress> {
  /** Settles when the conversion is done. */
  readonly done: Promise<ConvertResult>;
  /** The last progress report seen. */
  last: ConvertProgress | undefined;
  readonly #listeners = new Set<(p: ConvertProgress) => void>();

  /** @internal */
  constructor(run: (emit: (p: ConvertProgress) => void) => Promise<ConvertResult>) {
    this.done = run((p) => {
      this.last = p;
      for (const l of this.#listeners) l(p);
    });
    // Iterating without awaiting is a supported use; the error still surfaces through the iterator.
    this.done.catch(() => {});
  }

  /** Subscribes to progress reports; returns an unsubscribe function. */
  on(_event: "progress", listener: (p: ConvertProgress) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  // biome-ignore lint/suspicious/noThenProperty: a ConvertTask is awaitable by design (`await convert(...)` gives the result).
  then<A = ConvertResult, B = never>(
    onfulfilled?: ((value: ConvertResult) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.done.then(onfulfilled, onrejected);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConvertProgress> {
    const queue: ConvertProgress[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    const off = this.on("progress", (p) => {
      queue.push(p);
      wake?.();
    });
    this.done
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        finished = true;
        wake?.();
      });
    try {
      for (;;) {
        while (queue.length) yield queue.shift()!;
        if (finished) break;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      await this.done;
    } finally {
      off();
    }
  }
}

const PROGRESS_RE = /\((\d+(?:\.\d+)?)\/100%\)/g;

/**
 * Converts `src` to `dst` (format change, compaction, flattening a backing chain).
 * The output goes to a temp file in the destination's directory and is renamed into
 * place only when qemu-img succeeded; on failure or abort the temp file is removed.
 * Disk full and file size limits (RLIMIT_FSIZE) become NO_SPACE / FILE_TOO_LARGE.
 *
 * @example
 * ```ts
 * await image.convert("disk.raw", "disk.qcow2", { sourceFormat: "raw", compress: true });
 * for await (const p of image.convert("a.qcow2", "a.vdi", { format: "vdi", sourceFormat: "qcow2" })) {
 *   console.log(`${p.percent}%`);
 * }
 * ```
 * @throws {ImageError} IMAGE_NOT_FOUND, IMAGE_EXISTS, IMAGE_SAME_FILE, IMAGE_FORMAT, IMAGE_LOCKED, BACKING_MISSING, BACKING_LOOP, NO_SPACE, FILE_TOO_LARGE, IMAGE_ABORTED
 */
export function convert(src: string, dst: string, options: ConvertOptions = {}): ConvertTask {
  return new ConvertTask(async (emit) => {
    const absSrc = absPath(src);
    const absDst = absPath(dst);
    const format = checkFormat(options.format ?? "qcow2");
    const given = options.sourceFormat !== undefined ? checkFormat(options.sourceFormat, "source format") : undefined;
    const srcSt = await statImage(absSrc, "source image");
    const dstSt = await checkDestination(absDst, options.overwrite);
    checkNotSame(srcSt, dstSt, src, dst);
    const sourceFormat = given ?? (await detectFormat(absSrc));
    if (BACKING_FORMATS.includes(sourceFormat)) {
      const layers = await walkChain(absSrc, sourceFormat);
      const hit = dstSt && layers.find((l) => l.dev === dstSt.dev && l.ino === dstSt.ino);
      if (hit) {
        throw new ImageError("IMAGE_SAME_FILE", `${dst} is ${hit.path}, a layer of ${src}'s backing chain`, {
          advice: "write to a different file",
          details: { source: src, destination: dst, layer: hit.path },
        });
      }
    }
    if (options.signal?.aborted) {
      throw new ImageError("IMAGE_ABORTED", `conversion of ${src} was aborted before it started`, {
        details: { path: src },
      });
    }
    const direct = writesSideFiles(format, options.options);
    sweepStaleTemps(dirname(absDst));
    const target = direct ? absDst : tempSibling(absDst);
    const args = ["convert", "-p", "-f", sourceFormat, "-O", format];
    if (options.compress) args.push("-c");
    if (options.shareLock) args.push("-U");
    if (options.options && Object.keys(options.options).length) args.push("-o", optionString(options.options));
    args.push(absSrc, target);
    let pending = "";
    let lastPercent = -1;
    const onOut = (chunk: string) => {
      pending += chunk;
      let m: RegExpExecArray | null;
      let consumed = 0;
      PROGRESS_RE.lastIndex = 0;
      while ((m = PROGRESS_RE.exec(pending))) {
        consumed = PROGRESS_RE.lastIndex;
        const percent = Number(m[1]);
        if (percent === lastPercent) continue;
        lastPercent = percent;
        const p = { percent };
        options.onProgress?.(p);
        emit(p);
      }
      pending = pending.slice(consumed).slice(-64);
    };
    const unguard = guardTemp(target);
    try {
      await runQemuImg(args, {
        op: "convert",
        path: dst,
        format: sourceFormat,
        onStdout: onOut,
        signal: options.signal,
      });
      makePrivate(target);
      if (!direct) await commitTemp(target, absDst, options.overwrite);
    } catch (e) {
      await removeQuietly(target);
      throw e;
    } finally {
      unguard();
    }
    if (lastPercent !== 100) {
      const p = { percent: 100 };
      options.onProgress?.(p);
      emit(p);
    }
    return { path: absDst, format, sourceFormat };
  });
}
