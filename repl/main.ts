/**
 * The qemukit REPL on node:repl: TypeScript input, top-level await, the SDK, zx's `$` and the
 * recipes in scope, qemukit completions, dot commands, history, and VMs stopped on exit.
 * @module
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import repl, { type REPLServer } from "node:repl";
import { defineCommands } from "./commands.ts";
import { type Completer, type QmpLike, qmpCommandNames, wrapCompleter } from "./complete.ts";
import { replWriter } from "./format.ts";
import { historyPath } from "./history.ts";
import { baselineQmpNames, readCachedQmpNames, writeCachedQmpNames } from "./qmp-names.ts";
import { type SessionListing, type SessionVm, VmSession } from "./session.ts";
import type { LatePreload, Recipe, ReplPreload, StartReplOptions } from "./types.ts";
import { typescriptTranspiler } from "./typescript.ts";

type Eval = (code: string, context: object, file: string, cb: (err: Error | null, result?: unknown) => void) => void;
type StartFn = (this: unknown, ...args: unknown[]) => Promise<SessionVm>;

/** A started REPL and the session that owns its VMs. */
export interface ReplHandle {
  readonly server: REPLServer;
  readonly session: VmSession;
  /** Resolves when zx and the recipes are in scope. */
  readonly ready: Promise<void>;
  /** Resolves once the REPL has closed and its VMs are down. */
  readonly closed: Promise<void>;
}

const PATCHED = Symbol.for("qemukit.repl.trackedStart");

/** Tracks every VM started through the builder (`vm()...start()`), once per process. */
function trackBuilderStarts(sdk: Readonly<Record<string, unknown>>, session: VmSession): void {
  const Builder = sdk.VmBuilder as { prototype: Record<string | symbol, unknown> } | undefined;
  const proto =
    Builder?.prototype ??
    (typeof sdk.vm === "function" ? Object.getPrototypeOf((sdk.vm as () => object)()) : undefined);
  if (!proto || typeof proto.start !== "function" || proto[PATCHED]) return;
  proto.start = session.wrapStart(proto.start as StartFn);
  proto[PATCHED] = true;
}

function builderPrototype(sdk: Readonly<Record<string, unknown>>): object | undefined {
  const Builder = sdk.VmBuilder as { prototype: object } | undefined;
  if (Builder?.prototype) return Builder.prototype;
  return typeof sdk.vm === "function" ? Object.getPrototypeOf((sdk.vm as () => object)()) : undefined;
}

/**
 * Starts the REPL. Used by `repl/launch.js` (the bundled fast path), `qemukit repl`, and tests.
 *
 * @example
 * ```ts
 * import * as sdk from "../sdk/mod.ts";
 * const { closed } = await startRepl({ root, sdk, exitProcess: false });
 * await closed;
 * ```
 */
export function startRepl(options: ReplPreload & StartReplOptions): ReplHandle {
  const { sdk, root } = options;
  const output = options.output ?? process.stdout;
  const session = new VmSession(
    typeof sdk.list === "function" ? { list: sdk.list as () => Promise<SessionListing[]> } : {},
  );
  trackBuilderStarts(sdk, session);

  if (options.banner !== false) {
    const version = typeof sdk.VERSION === "string" ? ` ${sdk.VERSION}` : "";
    output.write(
      `qemukit${version} REPL on Node ${process.version}: TypeScript, top-level await, the SDK in scope. .help for a tour\n`,
    );
  }

  let server: REPLServer | undefined;
  const writer = replWriter(() => Boolean(server?.useColors));
  server = repl.start({
    prompt: options.prompt ?? "qemukit> ",
    input: options.input ?? process.stdin,
    output,
    useGlobal: true,
    ignoreUndefined: true,
    // Ctrl-C abandons a pending top-level await (a guest that never prints its prompt...).
    breakEvalOnSigint: true,
    writer,
  });
  const scope = server.context as Record<string, unknown>;
  for (const [k, v] of Object.entries(sdk)) scope[k] = v;

  let recipes: Readonly<Record<string, Recipe>> = {};
  let Reporter: LatePreload["Reporter"];
  // zx and the recipes load after the prompt is up; every eval waits for them.
  const ready: Promise<void> = new Promise<LatePreload | undefined>((resolve, reject) => {
    setImmediate(() => (options.late ? options.late() : Promise.resolve(undefined)).then(resolve, reject));
  })
    .then((late) => {
      if (!late) return;
      recipes = late.recipes;
      Reporter = late.Reporter;
      if (late.$ !== undefined) scope.$ = late.$;
      if (late.zx) scope.zx = late.zx;
      scope.recipes = Object.fromEntries(
        Object.entries(recipes).map(([id, r]) => [id, Object.assign((o?: Record<string, unknown>) => r.run(o), r)]),
      );
    })
    .catch((e) => {
      output.write(`qemukit: could not load zx/recipes: ${e instanceof Error ? e.message : String(e)}\n`);
    });

  const transpile = typescriptTranspiler(root);
  const baseEval = server.eval as unknown as Eval;
  // Inputs run one after another, in order: readline hands over every line of piped input
  // at once, and an async eval would otherwise let line 2 overtake line 1. An input is done
  // when node's eval calls back or, for errors, when node reports them on the REPL's domain
  // instead (it does not call back then).
  const domain = (server as unknown as { _domain?: import("node:events").EventEmitter })._domain;
  let settleCurrent: (() => void) | undefined;
  let inCallback = false;
  domain?.on("error", () => {
    if (!inCallback) settleCurrent?.();
  });
  let queue: Promise<void> = ready;
  const tsEval: Eval = function (this: unknown, code, context, file, cb) {
    queue = queue
      .then(() => transpile(code))
      .then(
        (js) =>
          new Promise<void>((settle) => {
            let settled = false;
            const finish = () => {
              if (settled) return;
              settled = true;
              if (settleCurrent === finish) settleCurrent = undefined;
              settle();
            };
            settleCurrent = finish;
            baseEval.call(this, js, context, file, (err, result) => {
              finish();
              inCallback = true;
              try {
                cb(err, result);
              } finally {
                inCallback = false;
              }
            });
            // Without a domain to hear about errors, only the start order is kept.
            if (!domain) finish();
          }),
      )
      .catch((e) => cb(e as Error));
  };
  (server as unknown as { eval: Eval }).eval = tsEval;
  const evaluate = (code: string) =>
    new Promise<unknown>((resolve, reject) =>
      tsEval.call(server, code, scope, "REPL", (err, r) => (err ? reject(err) : resolve(r))),
    );

  const proto = builderPrototype(sdk);
  const methods = proto
    ? Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor" && !n.startsWith("_"))
    : [];
  const qmpCommands = async (client: QmpLike | undefined): Promise<readonly string[]> => {
    const live = client ?? (session.running.at(-1)?.qmp as QmpLike | undefined);
    if (live) {
      try {
        const names = await qmpCommandNames(live);
        writeCachedQmpNames(names);
        return names;
      } catch {
        // Closed or busy: fall through to what we know.
      }
    }
    const cached = readCachedQmpNames();
    return cached.length ? cached : baselineQmpNames(root);
  };
  const srv = server as unknown as { completer: Completer };
  srv.completer = wrapCompleter(srv.completer.bind(server), {
    scope,
    builderMethods: () => methods,
    isBuilder: (v) => !!proto && typeof v === "object" && v !== null && Object.prototype.isPrototypeOf.call(proto, v),
    qmpCommands,
    recipeIds: () => Object.keys(recipes),
  });

  defineCommands(server, {
    sdk,
    recipes: () => recipes,
    reporter: () => (Reporter ? new Reporter(output) : undefined),
    ready: () => ready,
    evaluate,
    running: () => session.running,
  });

  const history = options.historyPath === undefined ? historyPath() : options.historyPath;
  if (history) {
    try {
      mkdirSync(dirname(history), { recursive: true });
      server.setupHistory(history, (err) => {
        if (err) output.write(`qemukit: history disabled (${err.message})\n`);
      });
    } catch (e) {
      output.write(`qemukit: history disabled (${(e as Error).message})\n`);
    }
  }

  const closed = new Promise<void>((resolve) => {
    let leaving = false;
    const leave = async (code: number) => {
      if (leaving) return;
      leaving = true;
      // Piped input ends before its last lines have run: finish them first. On a terminal,
      // Ctrl-D means now.
      if (!((options.input ?? process.stdin) as { isTTY?: boolean }).isTTY) await queue;
      const n = session.running.filter((v) => !v.daemonized).length;
      if (n) output.write(`stopping ${n} VM${n > 1 ? "s" : ""} started in this session...\n`);
      await session.close();
      resolve();
      if (options.exitProcess !== false) process.exit(code);
    };
    server!.on("exit", () => void leave(0));
    if (options.exitProcess !== false) {
      for (const sig of ["SIGTERM", "SIGHUP"] as const)
        process.once(sig, () => void leave(128 + (sig === "SIGTERM" ? 15 : 1)));
    }
  });

  return { server, session, ready, closed };
}
