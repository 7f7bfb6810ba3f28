/**
 * How the REPL prints results: util.inspect with colours (handles bring their own
 * `inspect.custom` views), and qemukit errors as code + message + advice instead of a
 * bare stack.
 * @module
 */
import { inspect, type InspectOptions } from "node:util";

/** The fields the REPL reads from a qemukit error (any realm, any bundle copy). */
export interface ErrorLike {
  readonly name: string;
  readonly message: string;
  readonly code: string;
  readonly advice?: string;
  readonly summary?: string;
  readonly stack?: string;
  readonly cause?: unknown;
}

/** True for QemukitError and its subclasses: an Error with a string `code` and an `advice` slot. */
export function isQemukitError(value: unknown): value is ErrorLike {
  return value instanceof Error && typeof (value as { code?: unknown }).code === "string" && "advice" in value;
}

const paint = (on: boolean, open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);

/**
 * Formats a qemukit error for the terminal: `Name [CODE]: what happened`, the advice line,
 * the cause, and the first frames of the stack that are not node internals.
 *
 * @example
 * ```ts
 * formatError(new SpecError("memory must be at least 1 MiB", { advice: "use memory(512)" }), false);
 * // "SpecError [SPEC_INVALID]: memory must be at least 1 MiB\n  → use memory(512)\n    at ..."
 * ```
 */
export function formatError(e: ErrorLike, colors: boolean): string {
  const red = paint(colors, 31, 39),
    yellow = paint(colors, 33, 39),
    dim = paint(colors, 2, 22),
    bold = paint(colors, 1, 22);
  const summary = e.summary ?? e.message;
  const lines = [`${bold(red(e.name))} ${dim(`[${e.code}]`)}: ${summary}`];
  if (e.advice) lines.push(`  ${yellow(`→ ${e.advice}`)}`);
  if (e.cause !== undefined) {
    const cause =
      e.cause instanceof Error ? `${e.cause.name}: ${e.cause.message}` : inspect(e.cause, { colors, depth: 1 });
    lines.push(dim(`  cause: ${cause.split("\n")[0]}`));
  }
  const frames = (e.stack ?? "")
    .split("\n")
    .filter((l) => /^\s+at /.test(l) && !/node:|REPL\d*:|repl\.ts|qemukit-repl\/|node_modules/.test(l));
  lines.push(...frames.slice(0, 3).map((f) => dim(f)));
  return lines.join("\n");
}

/**
 * The REPL's writer: qemukit errors via {@link formatError}, everything else via util.inspect.
 *
 * @example
 * ```ts
 * const writer = replWriter(() => true);
 * writer({ a: 1 }); // "{ a: \u001b[33m1\u001b[39m }"
 * ```
 */
export function replWriter(colors: () => boolean): ((value: unknown) => string) & { options: InspectOptions } {
  const options: InspectOptions = { showProxy: true, depth: 4, breakLength: 100 };
  const writer = (value: unknown) => {
    if (isQemukitError(value)) return formatError(value, colors());
    return inspect(value, { ...options, colors: colors() });
  };
  return Object.assign(writer, { options });
}
