/**
 * `accel: "auto"` made concrete: the KVM-or-TCG verdict, cached per boot.
 * @module
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Accel, AccelChoice } from "../spec/types.ts";
import { cacheDir } from "../util/dirs.ts";
import { which } from "../util/exec.ts";
import { readHostFacts } from "./facts.ts";
import { type Prober, runProbes } from "./measure.ts";
import type { AccelVerdict, HostFacts } from "./types.ts";
import { verdictFromFacts, verdictFromProbes } from "./verdict.ts";

/** Options for {@link accelVerdict} and {@link resolveAccel}. */
export interface AccelOptions {
  /** Filesystem root to read facts under (fixtures). Verdicts for other roots are never cached. @default "/" */
  readonly root?: string;
  /** qemu-system binary used by the probe. @default "qemu-system-x86_64" */
  readonly qemu?: string;
  /** Read and write the per-boot cache. @default true */
  readonly cache?: boolean;
  /** How long the KVM probe's guest gets to finish, in ms; a slower KVM loses to TCG anyway. @default 3000 */
  readonly probeTimeout?: number;
  /** Runs the probes instead of QEMU (tests inject measured results through it). */
  readonly prober?: Prober;
}

/** What {@link resolveAccel} returns: the `-accel` list to pass QEMU, the one expected to be used, and why. */
export interface ResolvedAccel {
  readonly accel: Accel[];
  readonly chosen: Accel;
  readonly reason: string;
}

const CACHE_VERSION = 3;

/**
 * The facts a verdict rests on. Part of the cache key, so fixing the host within a boot
 * (modprobe, chmod /dev/kvm, joining the kvm group) is noticed at once.
 */
function factsKey(facts: HostFacts): string {
  const d = facts.devKvm;
  return JSON.stringify([
    facts.cpu.virtFlag ?? null,
    facts.modules.map((m) => m.name),
    d.exists,
    d.openable ?? null,
    d.mode ?? null,
  ]);
}

/** Path of the per-boot verdict cache. */
export function verdictCachePath(): string {
  return join(cacheDir(), "host", "accel-verdict.json");
}

async function readCached(bootId: string, qemu: string, facts: string): Promise<AccelVerdict | undefined> {
  try {
    const data = JSON.parse(await readFile(verdictCachePath(), "utf8"));
    if (data.version === CACHE_VERSION && data.bootId === bootId && data.qemu === qemu && data.facts === facts) {
      return data.verdict;
    }
  } catch {
    /* absent or unreadable: decide afresh */
  }
  return undefined;
}

/**
 * Stores a verdict for this boot, so `accel("auto")` follows it without probing again
 * (`host.check()` on the real host refreshes it). Verdicts for fixture roots are not stored.
 *
 * @example
 * ```ts
 * await cacheVerdict(facts, "qemu-system-x86_64", verdictFromProbes(facts, { tcg, kvm }));
 * ```
 */
export async function cacheVerdict(facts: HostFacts, qemu: string, verdict: AccelVerdict): Promise<void> {
  if (facts.root !== "/" || !facts.bootId) return;
  await writeCached(facts.bootId, qemu, factsKey(facts), verdict);
}

async function writeCached(bootId: string, qemu: string, facts: string, verdict: AccelVerdict): Promise<void> {
  const path = verdictCachePath();
  try {
    await mkdir(join(cacheDir(), "host"), { recursive: true });
    // Write-then-rename so a concurrent reader never sees half a file.
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: CACHE_VERSION, bootId, qemu, facts, verdict }, null, 2));
    await rename(tmp, path);
  } catch {
    /* a read-only cache only costs a re-probe next time */
  }
}

const inFlight = new Map<string, Promise<AccelVerdict>>();

/**
 * Decides KVM or TCG for this host. Without a usable /dev/kvm the facts settle it at once;
 * otherwise both timed probes run (a fraction of a second under TCG and hardware KVM, up to
 * a few seconds on KVM-PVM) and the faster accelerator wins. Cached per boot in
 * `cacheDir()/host/`, keyed on the boot id, the QEMU binary and the facts it rests on.
 *
 * @example
 * ```ts
 * const v = await accelVerdict();
 * console.log(v.use, v.reason); // "tcg", "kvm ran the probe 31x slower than tcg (...): KVM-PVM ..."
 * ```
 */
export function accelVerdict(options: AccelOptions = {}): Promise<AccelVerdict> {
  const root = options.root ?? "/";
  const qemu = options.qemu ?? "qemu-system-x86_64";
  const useCache = (options.cache ?? true) && root === "/";
  if (options.prober) return decide(root, qemu, useCache, options);
  const key = `${root}\0${qemu}\0${useCache}`;
  let p = inFlight.get(key);
  if (!p) {
    p = decide(root, qemu, useCache, options).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function decide(root: string, qemu: string, useCache: boolean, options: AccelOptions): Promise<AccelVerdict> {
  const facts = await readHostFacts(root);
  if (useCache && facts.bootId) {
    const cached = await readCached(facts.bootId, qemu, factsKey(facts));
    if (cached) return cached;
  }
  let verdict = verdictFromFacts(facts);
  if (!verdict) {
    const binary = await which(qemu);
    const probes = await runProbes(facts, {
      qemu: binary,
      ...(options.prober ? { prober: options.prober } : {}),
      ...(options.probeTimeout ? { kvmTimeout: options.probeTimeout } : {}),
    });
    verdict =
      binary || options.prober
        ? verdictFromProbes(facts, probes)
        : { ...verdictFromProbes(facts, {}), reason: `${qemu} was not found, so nothing could be probed` };
  }
  if (useCache && facts.bootId) await writeCached(facts.bootId, qemu, factsKey(facts), verdict);
  return verdict;
}

/**
 * Turns a spec's accelerator choice into QEMU's `-accel` list.
 * - `"kvm"` / `"tcg"`: honoured as asked (no probe).
 * - `"auto"`: the per-boot verdict ({@link accelVerdict}).
 * - a list: KVM is dropped when the verdict says it cannot run guests here, because QEMU's own
 *   fallback would happily pick a KVM that initialises but never runs the guest (KVM-PVM).
 *
 * @example
 * ```ts
 * const { accel, chosen, reason } = await resolveAccel("auto");
 * argv.push(...accel.flatMap((a) => ["-accel", a]));
 * ```
 */
export async function resolveAccel(choice: AccelChoice, options: AccelOptions = {}): Promise<ResolvedAccel> {
  if (choice === "kvm" || choice === "tcg") {
    return { accel: [choice], chosen: choice, reason: `${choice} requested explicitly` };
  }
  if (choice === "auto") {
    const v = await accelVerdict(options);
    return { accel: [v.use], chosen: v.use, reason: v.reason };
  }
  const list = [...new Set(choice)];
  if (list.length === 0) return resolveAccel("auto", options);
  if (list.length === 1) return resolveAccel(list[0]!, options);
  if (!list.includes("kvm"))
    return { accel: list, chosen: list[0]!, reason: `${list.join(", ")} requested explicitly` };
  const v = await accelVerdict(options);
  if (v.use === "kvm")
    return { accel: list, chosen: list[0]!, reason: `${list[0]} first in the requested list; ${v.reason}` };
  const rest = list.filter((a) => a !== "kvm");
  return { accel: rest, chosen: rest[0]!, reason: `kvm dropped from the requested list: ${v.reason}` };
}

/**
 * What this host already knows against an explicit `accel("kvm")`: the per-boot verdict when a
 * check or an `accel("auto")` start measured one, else what the facts alone say (no /dev/kvm,
 * or not openable). Never probes, so asking costs a few file reads; `undefined` when nothing
 * known speaks against KVM. `start()` puts the text on `m.accel.warning` and emits it as a
 * process warning (`QEMUKIT_ACCEL_KVM`).
 *
 * @example
 * ```ts
 * const warning = await kvmWarning();
 * // 'accel("kvm") was asked for, but this host measured KVM as the slower accelerator: kvm ran the probe 1003x slower ...'
 * ```
 */
export async function kvmWarning(options: AccelOptions = {}): Promise<string | undefined> {
  const root = options.root ?? "/";
  const qemu = options.qemu ?? "qemu-system-x86_64";
  const facts = await readHostFacts(root);
  const fromFacts = verdictFromFacts(facts);
  const measured =
    fromFacts ??
    (options.prober
      ? await accelVerdict({ ...options, cache: false })
      : root === "/" && facts.bootId
        ? await readCached(facts.bootId, qemu, factsKey(facts))
        : undefined);
  if (!measured || measured.use === "kvm") return undefined;
  const what = fromFacts ? "KVM unusable" : "KVM as the slower accelerator";
  return (
    `accel("kvm") was asked for, but this host ${fromFacts ? "has" : "measured"} ${what}: ${measured.reason}; ` +
    `use accel("auto") to run guests with the faster one (qemukit host check shows the figures)`
  );
}
