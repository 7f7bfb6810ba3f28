/**
 * The main job (`qemukit lab`, `npm run lab`): every recipe on the built-in Debian guest,
 * heavy ones first and overlapping, then a summary table and a report on disk.
 * @module
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { guests, host, VERSION } from "../../sdk/mod.ts";
import { $ } from "zx";
import { recipeIds, recipes, type RecipeId } from "../index.ts";
import { renderMarkdown, renderTable } from "./lab-report.ts";
import { formatMs, Reporter, type ReportSink, type StepRecord } from "./reporter.ts";
import { cleanUpOnInterrupt } from "./resources.ts";
import type { Recipe, RecipeOptions } from "./types.ts";

/** Options of {@link runLab}. */
export interface LabOptions {
  /** Where lab-report.md, lab-report.json and screenshots go. @default "./lab-output" */
  readonly outDir?: string;
  /** Recipes running at the same time. @default 2 (this machine's core count) */
  readonly jobs?: number;
  /** Only these recipes (default: all, in the lab's order). */
  readonly only?: readonly RecipeId[];
  /** Boot this image instead of the built-in Debian guest (the lab's debian-11.qcow2). */
  readonly image?: string;
  /** Progress lines go here. @default process.stderr */
  readonly progress?: ReportSink;
}

/** One recipe's outcome. */
export interface LabRecipeResult {
  readonly id: RecipeId;
  readonly title: string;
  readonly exercise: string;
  readonly labCommands: readonly string[];
  readonly status: "passed" | "failed" | "interrupted" | "not run";
  readonly ms: number;
  /** Milliseconds after the lab started that this recipe started. */
  readonly startedAtMs: number;
  readonly summary?: string;
  readonly observations?: object;
  readonly error?: { readonly message: string; readonly code?: string };
  readonly steps: readonly StepRecord[];
}

/** Everything `lab-report.json` holds. */
export interface LabReport {
  readonly qemukit: string;
  readonly startedAt: string;
  readonly wallMs: number;
  readonly ok: boolean;
  readonly interrupted: boolean;
  readonly qemuVersion: string;
  readonly accel: { readonly chosen: string; readonly reason: string };
  readonly guest: string;
  readonly jobs: number;
  readonly host: { readonly cpus: number; readonly node: string; readonly runtime: string };
  readonly preparation: readonly StepRecord[];
  readonly recipes: readonly LabRecipeResult[];
  readonly outDir: string;
}

/**
 * Runs `items` with at most `limit` at a time, in order, but never two `heavy` ones at
 * once: guest boots under TCG compete for the same cores, so overlapping them makes each
 * slower without finishing sooner; light recipes fill the other lanes meanwhile.
 */
export async function schedule<T>(
  items: readonly T[],
  limit: number,
  heavy: (item: T) => boolean,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  let heavyBusy = false;
  const waiting: (() => void)[] = [];
  const take = (): T | undefined | "wait" => {
    const i = queue.findIndex((x) => !heavyBusy || !heavy(x));
    if (i < 0) return queue.length ? "wait" : undefined;
    return queue.splice(i, 1)[0];
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, async () => {
    for (;;) {
      const next = take();
      if (next === undefined) return;
      if (next === "wait") {
        await new Promise<void>((ok) => waiting.push(ok));
        continue;
      }
      const isHeavy = heavy(next);
      if (isHeavy) heavyBusy = true;
      try {
        await fn(next);
      } finally {
        if (isHeavy) {
          heavyBusy = false;
          for (const ok of waiting.splice(0)) ok();
        }
      }
    }
  });
  await Promise.all(lanes);
}

let writes = 0;
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}-${++writes}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * Runs the lab. Never throws for a failing recipe: the failure is in the report, and
 * `report.ok` is false.
 *
 * @example
 * ```ts
 * const report = await runLab({ outDir: "lab-output" });
 * process.exitCode = report.ok ? 0 : 1;
 * ```
 */
export async function runLab(options: LabOptions = {}): Promise<LabReport> {
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const outDir = resolve(options.outDir ?? "lab-output");
  const jobs = options.jobs ?? 2;
  const sink = options.progress ?? process.stderr;
  const root = new Reporter(sink, "lab");
  const ids = recipeIds.filter((id) => !options.only || options.only.includes(id));
  const results = new Map<RecipeId, LabRecipeResult>();
  const running = new Map<RecipeId, { started: number; reporter: Reporter }>();
  let interrupted = false;

  await mkdir(outDir, { recursive: true });

  let qemuVersion = "unknown";
  let accel = { chosen: "unknown", reason: "" };
  const report = (): LabReport => ({
    qemukit: VERSION,
    startedAt,
    wallMs: Math.round(performance.now() - t0),
    ok: !interrupted && ids.every((id) => results.get(id)?.status === "passed"),
    interrupted,
    qemuVersion,
    accel,
    guest: options.image ?? "debian (built-in)",
    jobs,
    host: { cpus: availableParallelism(), node: process.version, runtime: "Deno" in globalThis ? "deno" : "node" },
    preparation: root.steps,
    recipes: ids.map(
      (id) =>
        results.get(id) ?? notRun(id, interrupted && running.has(id) ? "interrupted" : "not run", running.get(id)),
    ),
    outDir,
  });
  const save = async (r: LabReport) => {
    await writeAtomically(join(outDir, "lab-report.json"), JSON.stringify(r, null, 2) + "\n");
    await writeAtomically(join(outDir, "lab-report.md"), renderMarkdown(r));
  };

  // Ctrl-C: stop every VM and remove temporary files first, then write what finished.
  const removeHandler = cleanUpOnInterrupt(
    async () => {
      await save(report()).catch(() => undefined);
      sink.write(`[lab] interrupted; partial report in ${outDir}\n`);
    },
    (sig) => {
      interrupted = true;
      sink.write(`\n[lab] ${sig}: stopping every VM and removing temporary files...\n`);
    },
  );
  try {
    await root.step(
      "QEMU version",
      async () => {
        const out = (await $`qemu-system-x86_64 --version`).stdout;
        qemuVersion = /version (\S+)/.exec(out)?.[1] ?? out.split("\n")[0]!;
        return qemuVersion;
      },
      (v) => v,
    );
    await root.step(
      "accelerator (accel: auto)",
      async () => {
        const r = await host.resolveAccel("auto");
        accel = { chosen: r.chosen, reason: r.reason };
        return r;
      },
      (r) => `${r.chosen}: ${r.reason}`,
    );
    const needs = new Set(ids);
    const prepare: Promise<unknown>[] = [];
    if (
      !options.image &&
      [...needs].some((id) => id !== "check-host" && id !== "create-disk" && id !== "install-from-iso")
    ) {
      prepare.push(
        root.step(
          "built-in Debian guest (built if needed)",
          () => guests.debian(),
          (g) => g.image,
        ),
      );
    }
    if (needs.has("install-from-iso")) {
      prepare.push(
        root.step(
          "built-in installer ISO (built if needed)",
          () => guests.installer(),
          (g) => g.iso,
        ),
      );
    }
    await Promise.allSettled(prepare);

    // Heavy recipes (guest boots) first and one at a time; light ones run beside them.
    const order = [...ids].sort((a, b) => Number(recipes[b].meta.heavy) - Number(recipes[a].meta.heavy));
    await schedule(
      order,
      jobs,
      (id) => recipes[id].meta.heavy,
      async (id) => {
        if (interrupted) return;
        const recipe = recipes[id] as unknown as Recipe<object>;
        const reporter = root.child(id);
        const started = performance.now();
        running.set(id, { started: started - t0, reporter });
        sink.write(`[lab] ▶ ${id}: ${recipe.meta.title}\n`);
        const opts: RecipeOptions = { reporter, outDir, ...(options.image ? { image: options.image } : {}) };
        try {
          const observations = await recipe.run(opts);
          const summary = recipe.summarize(observations);
          results.set(
            id,
            base(id, "passed", started - t0, performance.now() - started, reporter.steps, { observations, summary }),
          );
          sink.write(`[lab] ✓ ${id} (${formatMs(performance.now() - started)}): ${summary}\n`);
        } catch (e) {
          const err = e as { message?: string; code?: unknown };
          const error = {
            message: String(err.message ?? e),
            ...(typeof err.code === "string" ? { code: err.code } : {}),
          };
          results.set(
            id,
            base(
              id,
              interrupted ? "interrupted" : "failed",
              started - t0,
              performance.now() - started,
              reporter.steps,
              { error },
            ),
          );
          sink.write(`[lab] ✗ ${id} (${formatMs(performance.now() - started)}): ${error.message.split("\n")[0]}\n`);
        }
      },
    );
    const final = report();
    // After Ctrl-C the interrupt handler writes the report (after stopping the VMs).
    if (!interrupted) await save(final);
    return final;
  } finally {
    removeHandler();
  }
}

function base(
  id: RecipeId,
  status: LabRecipeResult["status"],
  startedAtMs: number,
  ms: number,
  steps: readonly StepRecord[],
  extra: Partial<LabRecipeResult>,
): LabRecipeResult {
  const m = recipes[id].meta;
  return {
    id,
    title: m.title,
    exercise: m.exercise,
    labCommands: m.labCommands,
    status,
    ms: Math.round(ms),
    startedAtMs: Math.round(startedAtMs),
    steps: [...steps],
    ...extra,
  };
}

function notRun(
  id: RecipeId,
  status: "interrupted" | "not run",
  running?: { started: number; reporter: Reporter },
): LabRecipeResult {
  return base(id, status, running?.started ?? 0, 0, running?.reporter.steps ?? [], {});
}

export { renderTable };
