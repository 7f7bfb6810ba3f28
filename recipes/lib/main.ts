/**
 * Lets every recipe run as a script: `npx tsx recipes/<id>.ts [--json]`,
 * `deno run -A recipes/<id>.ts`, and `qemukit recipe <id>`.
 * @module
 */
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { Reporter } from "./reporter.ts";
import { cleanUpOnInterrupt } from "./resources.ts";
import type { Recipe, RecipeOptions } from "./types.ts";
import { printObservations } from "./print.ts";
import { checkOnLibvirt } from "./libvirt.ts";
import type { LibvirtError } from "../../sdk/libvirt/mod.ts";

/**
 * True when the module whose `import.meta` is passed is the program's entry point:
 * `import.meta.main` on Deno, the resolved `argv[1]` under Node/tsx.
 */
export function isMain(meta: ImportMeta): boolean {
  const denoMain = (meta as ImportMeta & { main?: boolean }).main;
  if (typeof denoMain === "boolean") return denoMain;
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(resolve(entry))).href === meta.url;
  } catch {
    return false;
  }
}

/** Help text shared by every recipe script. */
export function usage(recipe: Recipe): string {
  return (
    [
      `usage: recipes/${recipe.meta.id}.ts [--json] [--image PATH] [--guest debian|tiny] [--out DIR] [--display N] [--on URI]`,
      "",
      `${recipe.meta.title}`,
      `Lab exercise: ${recipe.meta.exercise}`,
      "",
      "The lab's commands:",
      ...recipe.meta.labCommands.map((c) => `  $ ${c}`),
      "",
      "options:",
      "  --json          print one JSON object of the observations on stdout (progress goes to stderr)",
      "  --image PATH    boot this base image (your debian-11.qcow2) instead of the built-in Debian guest",
      "  --guest NAME    built-in guest to boot: debian (default) or tiny",
      "  --out DIR       where screenshots are written (default ./lab-output)",
      "  --display N     VNC display number (default 1, as in the lab)",
      `  --on URI        run the VMs through libvirt at URI (qemu:///system, qemu+ssh://root@host/system)${recipe.meta.libvirt ? "" : "; not this recipe"}`,
    ].join("\n") + "\n"
  );
}

/** Parses a recipe's command-line flags into {@link RecipeOptions}. Throws on unknown flags. */
export function parseRecipeArgs(args: readonly string[]): { options: RecipeOptions; json: boolean; help: boolean } {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      json: { type: "boolean" },
      image: { type: "string" },
      guest: { type: "string" },
      out: { type: "string" },
      display: { type: "string" },
      on: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.guest !== undefined && values.guest !== "debian" && values.guest !== "tiny") {
    throw new Error(`--guest must be debian or tiny, not ${values.guest}`);
  }
  let display: number | undefined;
  if (values.display !== undefined) {
    display = Number(values.display);
    if (!Number.isInteger(display) || display < 0 || display > 99)
      throw new Error(`--display must be 0..99, not ${values.display}`);
  }
  const options: RecipeOptions = {
    ...(values.image ? { image: resolve(values.image) } : {}),
    ...(values.guest ? { guest: values.guest as "debian" | "tiny" } : {}),
    ...(values.out ? { outDir: resolve(values.out) } : {}),
    ...(display !== undefined ? { display } : {}),
    ...(values.on ? { on: values.on } : {}),
  };
  return { options, json: values.json === true, help: values.help === true };
}

/** Output streams of {@link runRecipeCli}; swapped by `qemukit recipe`. */
export interface RecipeIO {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}

/**
 * Runs a recipe with command-line `args`: a readable account on stdout, or `--json` (one
 * JSON object on stdout, progress on stderr). Returns the exit code.
 */
export async function runRecipeCli(recipe: Recipe, args: readonly string[], io: RecipeIO = process): Promise<number> {
  let parsed: ReturnType<typeof parseRecipeArgs>;
  try {
    parsed = parseRecipeArgs(args);
  } catch (e) {
    io.stderr.write(`${(e as Error).message}\n\n${usage(recipe)}`);
    return 2;
  }
  if (parsed.help) {
    io.stdout.write(usage(recipe));
    return 0;
  }
  const progress = parsed.json ? io.stderr : io.stdout;
  if (parsed.options.on !== undefined) {
    try {
      checkOnLibvirt(recipe, parsed.options.on);
    } catch (e) {
      io.stderr.write(`recipe ${recipe.meta.id} failed [${(e as LibvirtError).code}]: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const reporter = new Reporter(progress);
  const removeHandler = cleanUpOnInterrupt(undefined, (sig) =>
    io.stderr.write(`\n${sig}: stopping VMs and removing temporary files...\n`),
  );
  try {
    progress.write(`# ${recipe.meta.title}\n`);
    for (const c of recipe.meta.labCommands) progress.write(`  lab: $ ${c}\n`);
    const observations = await recipe.run({ ...parsed.options, reporter });
    if (parsed.json) io.stdout.write(JSON.stringify(observations, null, 2) + "\n");
    else printObservations(io.stdout, observations);
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: unknown }).code;
    io.stderr.write(`recipe ${recipe.meta.id} failed${typeof code === "string" ? ` [${code}]` : ""}: ${msg}\n`);
    return 1;
  } finally {
    removeHandler();
  }
}

/**
 * The last lines of every recipe file: run as a script when executed directly.
 *
 * @example
 * ```ts
 * if (isMain(import.meta)) runAsScript(recipe);
 * ```
 */
export function runAsScript(recipe: Recipe): void {
  runRecipeCli(recipe, process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
