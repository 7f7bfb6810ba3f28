/**
 * Tab completion on top of node:repl's own completer: builder methods on `vm()` chains,
 * QMP command names inside `execute("` / `executeRaw("`, recipe ids after `.run`.
 * Nothing typed is evaluated: receivers are looked up as plain data properties of the
 * REPL's scope, and builder chains are recognised by shape.
 * @module
 */

/** node:repl's completer signature. */
export type Completer = (line: string, callback: (err: Error | null, result?: [string[], string]) => void) => void;

/** A QMP client, as far as completion cares. */
export interface QmpLike {
  executeRaw(name: string, args?: Record<string, unknown>, options?: { timeout?: number }): Promise<unknown>;
}

/** What {@link completeLine} needs from the session. */
export interface CompletionSources {
  /** The REPL's scope (globalThis with the SDK on it). */
  readonly scope: object;
  /** Method names of VmBuilder (from its prototype). */
  readonly builderMethods: () => readonly string[];
  /** True when `value` is a VmBuilder. */
  readonly isBuilder: (value: unknown) => boolean;
  /** QMP command names: of `client` when given and reachable, else the best list known. */
  readonly qmpCommands: (client: QmpLike | undefined) => Promise<readonly string[]>;
  /** Recipe ids. */
  readonly recipeIds: () => readonly string[];
}

const IDENT = String.raw`[A-Za-z_$][\w$]*`;
const ARGS = String.raw`\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)`;
const QMP_RE = new RegExp(
  String.raw`(?:^|[^\w$.])(${IDENT}(?:\s*\.\s*${IDENT})*)\s*\.\s*(?:execute|executeRaw)\(\s*["'\x60]([\w-]*)$`,
);
const QMP_BARE_RE = /\b(?:execute|executeRaw)\(\s*["'`]([\w-]*)$/;
const CHAIN_RE = new RegExp(
  String.raw`(?:^|[^\w$.])(vm\(\s*\)|${IDENT})((?:\s*\.\s*${IDENT}\s*${ARGS})*)\s*\.\s*(${IDENT}|)$`,
);
const CHAIN_STEP_RE = new RegExp(String.raw`\.\s*(${IDENT})\s*${ARGS}`, "g");

/** Methods of VmBuilder that do not return a VmBuilder; a chain ends there. */
const TERMINAL = new Set(["toArgv", "toCommandLine", "compile", "start", "spec", "constructor"]);

/**
 * Follows `a.b.c` through own or inherited *data* properties of `scope` (getters are not
 * called, so completion never runs user code). Returns undefined when any step is missing.
 */
export function lookupPath(scope: object, path: string): unknown {
  let value: unknown = scope;
  for (const key of path.split(".").map((k) => k.trim())) {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
    let holder: object | null = value as object;
    let desc: PropertyDescriptor | undefined;
    while (holder && !(desc = Object.getOwnPropertyDescriptor(holder, key))) holder = Object.getPrototypeOf(holder);
    if (!desc || !("value" in desc)) return undefined;
    value = desc.value;
  }
  return value;
}

function asQmp(value: unknown): QmpLike | undefined {
  if (value && typeof (value as QmpLike).executeRaw === "function") return value as QmpLike;
  const inner = value && typeof value === "object" ? lookupPath(value, "qmp") : undefined;
  if (inner && typeof (inner as QmpLike).executeRaw === "function") return inner as QmpLike;
  return undefined;
}

/**
 * qemukit's completions for `line`, or undefined when node's own completer should answer.
 *
 * @example
 * ```ts
 * await completeLine('await m.qmp.execute("query-sta', sources); // [["query-status"], "query-sta"]
 * await completeLine("vm().memory(512).sm", sources);             // [["smp"], "sm"]
 * ```
 */
export async function completeLine(line: string, sources: CompletionSources): Promise<[string[], string] | undefined> {
  const run = /^\.run\s+(\S*)$/.exec(line);
  if (run) {
    const partial = run[1]!;
    return [
      sources
        .recipeIds()
        .filter((id) => id.startsWith(partial))
        .sort(),
      partial,
    ];
  }
  const argv = /^\.argv\s+(.*)$/.exec(line);
  if (argv) return completeLine(argv[1]!, sources);

  const qmp = QMP_RE.exec(line);
  const bare = qmp ? undefined : QMP_BARE_RE.exec(line);
  if (qmp || bare) {
    const partial = qmp ? qmp[2]! : bare![1]!;
    const client = qmp ? asQmp(lookupPath(sources.scope, qmp[1]!.replace(/\s+/g, ""))) : undefined;
    const names = await sources.qmpCommands(client);
    return [names.filter((n) => n.startsWith(partial)).sort(), partial];
  }

  const chain = CHAIN_RE.exec(line);
  if (chain) {
    const [, head, steps, partial] = chain as unknown as [string, string, string, string];
    const methods = sources.builderMethods();
    const isVmCall = /^vm\(\s*\)$/.test(head);
    const headIsBuilder = isVmCall || sources.isBuilder(lookupPath(sources.scope, head));
    const called = [...steps.matchAll(CHAIN_STEP_RE)].map((m) => m[1]!);
    // Plain `name.` on a builder variable is node's job (it lists real properties), unless the
    // chain has calls, which node refuses to evaluate.
    if (
      headIsBuilder &&
      (isVmCall || called.length > 0) &&
      called.every((m) => methods.includes(m) && !TERMINAL.has(m))
    ) {
      return [methods.filter((m) => m.startsWith(partial) && m !== "constructor").sort(), partial];
    }
  }
  return undefined;
}

/**
 * Wraps node:repl's completer: qemukit's completions first, node's for everything else.
 *
 * @example
 * ```ts
 * server.completer = wrapCompleter(server.completer.bind(server), sources);
 * ```
 */
export function wrapCompleter(base: Completer, sources: CompletionSources): Completer {
  return (line, callback) => {
    completeLine(line, sources).then(
      (mine) => (mine ? callback(null, mine) : base(line, callback)),
      () => base(line, callback),
    );
  };
}

/**
 * Live QMP command names of a client (`query-commands`), cached per client.
 *
 * @example
 * ```ts
 * const names = await qmpCommandNames(m.qmp); // ["add-fd", "blockdev-add", ...]
 * ```
 */
export function qmpCommandNames(client: QmpLike, timeout = 2000): Promise<readonly string[]> {
  let cached = liveCache.get(client);
  if (!cached) {
    cached = client
      .executeRaw("query-commands", undefined, { timeout })
      .then((r) => (r as { name: string }[]).map((c) => c.name).sort());
    liveCache.set(client, cached);
    cached.catch(() => liveCache.delete(client));
  }
  return cached;
}
const liveCache = new WeakMap<QmpLike, Promise<readonly string[]>>();
