/**
 * Step-by-step account of a recipe: what it does, how long it took, what it saw.
 * Writes to any stream (stdout for people, stderr when stdout carries JSON).
 * @module
 */

/** One finished (or failed) step. */
export interface StepRecord {
  readonly title: string;
  readonly ok: boolean;
  readonly ms: number;
  /** What the step observed, in one line. */
  readonly detail?: string;
  /** Error message when the step failed. */
  readonly error?: string;
}

/** Where a reporter writes; `null` makes it silent but still recording. */
export interface ReportSink {
  write(text: string): unknown;
}

/**
 * Runs named steps, timing them and printing one line per step.
 *
 * @example
 * ```ts
 * const r = new Reporter(process.stdout, "create-disk");
 * const info = await r.step("inspect the image", () => image.info(path), (i) => `${i.virtualSize} bytes`);
 * ```
 */
export class Reporter {
  readonly steps: StepRecord[] = [];

  constructor(
    private readonly sink: ReportSink | null = null,
    /** Prefix for every line (the recipe id when several recipes print at once). */
    readonly prefix = "",
  ) {}

  /** A reporter for another recipe that shares this one's sink (the lab runner's). */
  child(prefix: string): Reporter {
    return new Reporter(this.sink, prefix);
  }

  private line(text: string): void {
    this.sink?.write(`${this.prefix ? `[${this.prefix}] ` : ""}${text}\n`);
  }

  /** Prints a free-form line (a command line, a note). */
  note(text: string): void {
    this.line(`  ${text}`);
  }

  /** Runs `fn` as a step named `title`; `describe` turns its result into the printed detail. */
  async step<T>(title: string, fn: () => Promise<T> | T, describe?: (value: T) => string | undefined): Promise<T> {
    const t0 = performance.now();
    this.line(`→ ${title}`);
    try {
      const value = await fn();
      const ms = Math.round(performance.now() - t0);
      const detail = describe?.(value);
      this.steps.push({ title, ok: true, ms, ...(detail ? { detail } : {}) });
      this.line(`  ✓ ${title} (${formatMs(ms)})${detail ? `: ${detail}` : ""}`);
      return value;
    } catch (e) {
      const ms = Math.round(performance.now() - t0);
      const error = e instanceof Error ? e.message : String(e);
      this.steps.push({ title, ok: false, ms, error });
      this.line(`  ✗ ${title} (${formatMs(ms)}): ${error.split("\n")[0]}`);
      throw e;
    }
  }
}

/** `1234` -> `"1.2 s"`, `87` -> `"87 ms"`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `1536` -> `"1.5 KiB"`: sizes the way `du -h` and `qemu-img info` show them. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}
