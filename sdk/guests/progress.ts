/**
 * Progress reporting for guest builds: steps and percentages.
 * @module
 */
import type { BuildOptions, BuildProgress, GuestName } from "./types.ts";

/** Reports the steps of one build. */
export interface StepReporter {
  /** Starts step `label`; percent is derived from the step weights. */
  step(label: string): void;
  /** Finishes the build (ends a TTY line). */
  done(seconds: number): void;
}

/**
 * Renders progress on a stream: one rewritten line on a TTY, one line per step otherwise.
 *
 * @example
 * ```ts
 * const show = progressPrinter(process.stderr);
 * show({ guest: "tiny", step: 1, steps: 4, label: "download kernel", percent: 0 });
 * ```
 */
export function progressPrinter(stream: NodeJS.WritableStream & { isTTY?: boolean }): (p: BuildProgress) => void {
  return (p) => {
    const text = `[${p.guest}] ${p.step}/${p.steps} ${String(Math.round(p.percent)).padStart(3)}% ${p.label}`;
    if (stream.isTTY) stream.write(`\r\x1b[2K${text}${p.percent >= 100 ? "\n" : ""}`);
    else stream.write(text + "\n");
  };
}

/** Makes the reporter for a build with the given step labels (weights: relative durations). */
export function stepReporter(
  guest: GuestName,
  weights: readonly number[],
  option: BuildOptions["progress"],
): StepReporter {
  const sink =
    option === false ? undefined : option === undefined || option === "auto" ? progressPrinter(process.stderr) : option;
  const total = weights.reduce((a, b) => a + b, 0);
  let index = 0;
  return {
    step(label) {
      const before = weights.slice(0, index).reduce((a, b) => a + b, 0);
      index++;
      sink?.({ guest, step: index, steps: weights.length, label, percent: (100 * before) / total });
    },
    done(seconds) {
      sink?.({
        guest,
        step: weights.length,
        steps: weights.length,
        label: `built in ${seconds.toFixed(1)} s`,
        percent: 100,
      });
    },
  };
}
