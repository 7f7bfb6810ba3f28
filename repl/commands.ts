/**
 * The REPL's dot commands: `.vms`, `.recipes`, `.run`, `.argv`, `.template`, `.web`, and the `.help` tour.
 * @module
 */
import type { REPLServer } from "node:repl";
import { inspect } from "node:util";
import { formatError, isQemukitError } from "./format.ts";
import { helpText } from "./help.ts";
import type { Recipe } from "./types.ts";
import { isAlive } from "../sdk/util/proc.ts";
import { listTemplates } from "../sdk/template/store.ts";
import { builtInTemplate } from "../sdk/template/builtin.ts";

/** What the commands need from the session. */
export interface CommandSources {
  /** The SDK's exports. */
  readonly sdk: Readonly<Record<string, unknown>>;
  /** Recipes by id (empty until they have loaded). */
  readonly recipes: () => Readonly<Record<string, Recipe>>;
  /** Makes the reporter `.run` passes to a recipe, when the recipes have one. */
  readonly reporter?: () => unknown;
  /** Waits for the late preload (zx, recipes). */
  readonly ready: () => Promise<void>;
  /** Evaluates REPL input (TypeScript) in the REPL's scope. */
  readonly evaluate: (code: string) => Promise<unknown>;
  /** VMs started in this session and still running, newest last (`.web` with no argument). */
  readonly running?: () => readonly unknown[];
}

interface WebCapable {
  readonly name: string;
  web(): Promise<{ readonly url: string }>;
}
const canServeWeb = (v: unknown): v is WebCapable =>
  typeof v === "object" && v !== null && typeof (v as { web?: unknown }).web === "function";

interface Listing {
  readonly name: string;
  readonly pid: number;
  readonly daemonized?: boolean;
  readonly ownerPid?: number;
  readonly accel?: { readonly chosen?: string };
  readonly vnc?: { readonly port?: number; readonly websocketPort?: number };
  readonly started?: string;
}

/** Renders `list()` output as a table; exported for tests. */
export function formatVmTable(vms: readonly Listing[]): string {
  if (vms.length === 0) return "no running VMs (start one: await vm()...start())";
  const rows = vms.map((v) => {
    const ports = [v.vnc?.port ? `vnc ${v.vnc.port}` : "", v.vnc?.websocketPort ? `ws ${v.vnc.websocketPort}` : ""]
      .filter(Boolean)
      .join(", ");
    const state = isAlive(v.pid) ? (v.daemonized ? "daemon" : "running") : "gone";
    const owner = v.daemonized ? "-" : v.ownerPid === process.pid ? "this REPL" : String(v.ownerPid ?? "?");
    return [v.name, String(v.pid), state, v.accel?.chosen ?? "?", ports || "-", owner];
  });
  const head = ["NAME", "PID", "STATE", "ACCEL", "PORTS", "OWNER"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function print(server: REPLServer, text: string): void {
  server.output.write(`${text}\n`);
}

function printError(server: REPLServer, e: unknown): void {
  const colors = Boolean(server.useColors);
  print(server, isQemukitError(e) ? formatError(e, colors) : inspect(e, { colors }));
}

function command(server: REPLServer, name: string, help: string, action: (arg: string) => Promise<void>): void {
  server.defineCommand(name, {
    help,
    action(arg: string) {
      server.clearBufferedCommand();
      action(arg.trim())
        .catch((e) => printError(server, e))
        .finally(() => server.displayPrompt());
    },
  });
}

/**
 * Adds qemukit's dot commands to `server` (replacing node's `.help` with the tour, which
 * ends with node's own commands).
 *
 * @example
 * ```ts
 * defineCommands(server, { sdk, recipes: () => recipes, ready, evaluate });
 * ```
 */
export function defineCommands(server: REPLServer, sources: CommandSources): void {
  command(server, "help", "A short tour with examples", async () => {
    await sources.ready();
    const sdk = Object.keys(sources.sdk)
      .filter((k) => !/Error$|^[A-Z_]+$/.test(k))
      .sort();
    print(server, helpText({ sdk, recipes: Object.keys(sources.recipes()).sort() }));
  });

  command(server, "vms", "Running VMs with state and ports", async () => {
    const list = sources.sdk.list as (() => Promise<readonly Listing[]>) | undefined;
    if (typeof list !== "function") throw new Error("list() is not available in this build of the SDK");
    print(server, formatVmTable(await list()));
  });

  command(server, "recipes", "The lab recipes", async () => {
    await sources.ready();
    const entries = Object.entries(sources.recipes());
    if (entries.length === 0) return print(server, "no recipes found (recipes/index.ts)");
    const w = Math.max(...entries.map(([id]) => id.length));
    print(server, entries.map(([id, r]) => `  ${id.padEnd(w)}  ${r.title ?? r.meta?.title ?? ""}`).join("\n"));
    print(server, `run one: .run <id> [options]   or: await recipes["<id>"](options)`);
  });

  command(server, "run", "Run a recipe: .run <id> [options object]", async (arg) => {
    await sources.ready();
    const [, id = "", rest = ""] = /^(\S*)\s*(.*)$/s.exec(arg) ?? [];
    const recipe = sources.recipes()[id];
    if (!recipe) {
      const ids = Object.keys(sources.recipes()).sort();
      return print(
        server,
        id
          ? `no recipe '${id}'; known: ${ids.join(", ") || "(none)"}`
          : `usage: .run <id> [options]; known: ${ids.join(", ")}`,
      );
    }
    const given = (rest ? await sources.evaluate(`(${rest})`) : {}) as Record<string, unknown>;
    const reporter = sources.reporter?.();
    const result = await recipe.run(reporter && !("reporter" in given) ? { ...given, reporter } : given);
    // The steps are already printed; the (often large) result waits in a variable.
    if (result !== undefined) {
      (server.context as Record<string, unknown>).lastRun = result;
      print(server, reporter ? "result in lastRun" : inspect(result, { colors: Boolean(server.useColors), depth: 4 }));
    }
  });

  command(server, "web", "Serve a VM's screen and serial console on a local web page: .web [vm]", async (arg) => {
    let target: unknown;
    if (arg) target = await sources.evaluate(arg);
    else {
      const running = sources.running?.() ?? [];
      if (running.length !== 1) {
        return print(
          server,
          running.length
            ? `${running.length} VMs are running here: name one, e.g. .web m`
            : "no VM started in this session: .web <vm>, e.g. .web m, or start one first",
        );
      }
      target = running[0];
    }
    if (!canServeWeb(target))
      return print(server, `not a running VM: ${inspect(target, { colors: Boolean(server.useColors), depth: 0 })}`);
    const web = await target.web();
    print(server, `${target.name}: ${web.url}`);
  });

  command(server, "argv", "Show the qemu command line of a builder: .argv vm().memory(512)", async (arg) => {
    if (!arg) return print(server, "usage: .argv <builder expression>, e.g. .argv vm().memory(512).smp(2)");
    const value = (await sources.evaluate(arg)) as { toCommandLine?: () => string; toArgv?: () => string[] };
    if (value && typeof value.toCommandLine === "function") return print(server, value.toCommandLine());
    if (value && typeof value.toArgv === "function") return print(server, value.toArgv().join(" "));
    print(server, `not a VM builder: ${inspect(value, { colors: Boolean(server.useColors), depth: 1 })}`);
  });

  command(
    server,
    "template",
    "Templates: .template lists them; .template tiny|debian makes or loads one into `t` (clone: await t.start())",
    async (arg) => {
      if (!arg) {
        const rows = await listTemplates();
        if (rows.length === 0) return print(server, "no templates; make one: .template tiny (or debian)");
        for (const r of rows) {
          const state = r.stale ? `stale: ${r.stale}` : "current";
          print(server, `${r.dir}  ${r.memoryMiB} MiB, ${state}, ${r.clones.length} running clone(s)`);
        }
        return;
      }
      if (arg !== "tiny" && arg !== "debian") return print(server, "usage: .template [tiny|debian]");
      print(server, `${arg}: a cold boot the first time (Debian: up to a minute under TCG), cached after that`);
      const t = await builtInTemplate(arg);
      (server.context as Record<string, unknown>).t = t;
      print(
        server,
        `t = ${t.built ? "new" : "cached"} template ${t.dir}
clone: await using m = await t.start()`,
      );
    },
  );
}
