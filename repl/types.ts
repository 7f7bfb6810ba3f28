/**
 * Shapes shared by the REPL's parts.
 * @module
 */
import type { Readable, Writable } from "node:stream";

/** One lab recipe as `recipes/index.ts` registers it. */
export interface Recipe {
  /** One-line description shown by `.recipes` (or `meta.title`). */
  readonly title?: string;
  readonly meta?: { readonly title?: string };
  /** Runs the recipe; options are recipe-specific. */
  readonly run: (options?: Record<string, unknown>) => Promise<unknown>;
}

/** What loads after the first prompt (zx alone costs ~100 ms): eval waits for it. */
export interface LatePreload {
  /** zx's `$`. */
  readonly $?: unknown;
  /** The whole zx module. */
  readonly zx?: Record<string, unknown>;
  /** Recipes by id. */
  readonly recipes: Readonly<Record<string, Recipe>>;
  /** The recipes' step printer: `.run` passes `{ reporter: new Reporter(output) }`. */
  readonly Reporter?: new (sink: {
    write(s: string): unknown;
  }) => unknown;
}

/** Everything the REPL puts in scope. */
export interface ReplPreload {
  /** Repository (or package) root. */
  readonly root: string;
  /** The public SDK's exports (`vm`, `image`, `guests`, ...), become globals. */
  readonly sdk: Readonly<Record<string, unknown>>;
  /** Loads zx and the recipes; started right after the prompt is shown. */
  readonly late?: () => Promise<LatePreload>;
}

/** Options of {@link startRepl} besides the preload. */
export interface StartReplOptions {
  readonly input?: Readable;
  readonly output?: Writable;
  /** History file; `null` disables history. Default: {@link historyPath}(). */
  readonly historyPath?: string | null;
  /** @default "qemukit> " */
  readonly prompt?: string;
  /** Call `process.exit()` once the REPL closed and its VMs are down. @default true */
  readonly exitProcess?: boolean;
  /** Print the one-line banner. @default true */
  readonly banner?: boolean;
}
