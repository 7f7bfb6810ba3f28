/**
 * Image benchmark: 200 overlay creations and 200 `info` calls through qemukit versus the
 * same qemu-img invocations from a `sh` loop, sequentially and with concurrency. A third
 * column runs the same argv with bare `child_process.spawn` from Node: spawning from Node
 * forks the whole Node process. qemukit spawns every qemu-img call the same way, under
 * `setpriv --pdeathsig SIGKILL` (one more exec, no extra process), plus its own checks
 * (stat of the destination, /proc/locks on overwrite, a temp file renamed into place).
 *
 * The variants run interleaved in blocks (sh, node, qemukit, sh, node, qemukit, ...), so
 * load from other processes on a shared host hits them alike.
 * Targets, with no resident launcher (retired: a shell protocol for a gain this bench did not
 * show): qemukit within 1.2x of a bare Node spawn of the same argv (its own checks and
 * setpriv's exec), and with concurrency faster than its own sequential run. The shell loop
 * stays as the floor a forking language can only approach. Run: `npx tsx bench/images/run.ts` (IMG_BENCH_N, IMG_BENCH_CONC,
 * IMG_BENCH_BLOCK).
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { image } from "../../sdk/img/mod.ts";

const N = Number(process.env.IMG_BENCH_N ?? 200);
const CONC = Number(process.env.IMG_BENCH_CONC ?? 4);
const BLOCK = Number(process.env.IMG_BENCH_BLOCK ?? 20);

const root = mkdtempSync(join(tmpdir(), "qk-img-bench-"));
const base = join(root, "base.qcow2");
execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "1G"]);
execFileSync("qemu-io", ["-f", "qcow2", "-c", "write -P 0xab 0 4M", base], { stdio: "ignore" });

type Variant = "sh" | "node" | "qemukit";
const VARIANTS: readonly Variant[] = ["sh", "node", "qemukit"];

const overlayArgv = (dir: string, i: number) => [
  "create",
  "-q",
  "-f",
  "qcow2",
  "-b",
  base,
  "-F",
  "qcow2",
  join(dir, `ov-${i}.qcow2`),
];
const infoArgv = (dir: string, i: number) => ["info", "-U", "--output=json", "-f", "qcow2", join(dir, `ov-${i}.qcow2`)];

/** sh runs `qemu-img "$@"` for each index from $1 to $2, sequentially or via xargs -P. */
function shBlock(op: "overlay" | "info", dir: string, from: number, to: number, conc: number): number {
  const cmd =
    op === "overlay"
      ? `qemu-img create -q -f qcow2 -b "${base}" -F qcow2 "${dir}/ov-$i.qcow2"`
      : `qemu-img info -U --output=json -f qcow2 "${dir}/ov-$i.qcow2" >/dev/null`;
  const script =
    conc === 1
      ? `i=$1; while [ $i -lt $2 ]; do ${cmd}; i=$((i+1)); done`
      : `seq $1 $(($2-1)) | xargs -P ${conc} -I{} sh -c 'i={}; ${cmd.replaceAll('"', "")}'`;
  const t0 = performance.now();
  execFileSync("sh", ["-c", script, "sh", String(from), String(to)], { stdio: "ignore" });
  return performance.now() - t0;
}

function nodeSpawn(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn("qemu-img", argv, { stdio: ["ignore", "pipe", "pipe"] });
    c.stdout.resume();
    c.stderr.resume();
    c.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`qemu-img exited ${code}`))));
  });
}

async function pool(from: number, to: number, conc: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  let next = from;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < to) await fn(next++);
    }),
  );
  return performance.now() - t0;
}

async function measure(conc: number): Promise<Record<"overlay" | "info", Record<Variant, number>>> {
  const dirs = Object.fromEntries(
    VARIANTS.map((v) => {
      const d = join(root, `${v}-${conc}`);
      mkdirSync(d);
      return [v, d];
    }),
  ) as Record<Variant, string>;
  const total = { overlay: { sh: 0, node: 0, qemukit: 0 }, info: { sh: 0, node: 0, qemukit: 0 } };
  for (const op of ["overlay", "info"] as const) {
    for (let from = 0; from < N; from += BLOCK) {
      const to = Math.min(N, from + BLOCK);
      total[op].sh += shBlock(op, dirs.sh, from, to, conc);
      total[op].node += await pool(from, to, conc, (i) =>
        nodeSpawn(op === "overlay" ? overlayArgv(dirs.node, i) : infoArgv(dirs.node, i)),
      );
      total[op].qemukit += await pool(from, to, conc, (i) =>
        op === "overlay"
          ? image.overlay(base, join(dirs.qemukit, `ov-${i}.qcow2`), { baseFormat: "qcow2" })
          : image.info(join(dirs.qemukit, `ov-${i}.qcow2`), { format: "qcow2" }),
      );
    }
  }
  for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  return total;
}

try {
  // warm-up: page cache, JIT, qemu-img's shared libraries
  await pool(0, 10, 1, (i) =>
    image.overlay(base, join(root, `warm-${i}.qcow2`), { baseFormat: "qcow2", overwrite: true }),
  );
  const seq = await measure(1);
  const par = await measure(CONC);
  const ms = (x: number) => x.toFixed(0).padStart(7);
  const r = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(7);
  console.log(`qemukit image bench: ${N} operations each, blocks of ${BLOCK} interleaved; total ms`);
  console.log("op       mode      sh loop  node spawn  qemukit | qemukit/sh  qemukit/node");
  for (const op of ["overlay", "info"] as const) {
    for (const [mode, t] of [
      ["seq", seq[op]],
      [`-P ${CONC}`, par[op]],
    ] as const) {
      console.log(
        `${op.padEnd(8)} ${mode.padEnd(7)} ${ms(t.sh)}  ${ms(t.node)}    ${ms(t.qemukit)} |   ${r(t.qemukit, t.sh)}     ${r(t.qemukit, t.node)}`,
      );
    }
    console.log(`${op.padEnd(8)} qemukit -P ${CONC} vs sequential sh loop: ${r(par[op].qemukit, seq[op].sh)}`);
  }
  for (const op of ["overlay", "info"] as const) {
    console.log(`${op.padEnd(8)} qemukit -P ${CONC} vs qemukit sequential:  ${r(par[op].qemukit, seq[op].qemukit)}`);
  }
  console.log("targets: qemukit/node <= 1.20x; qemukit -P vs qemukit sequential < 1.00x");
  console.log(
    "node spawn and qemukit fork the Node process; qemukit's calls also run under setpriv --pdeathsig (one more exec)",
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
