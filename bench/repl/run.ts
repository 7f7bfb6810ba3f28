/**
 * REPL start-up benchmark: median time from launch to the first prompt on a pty, qemukit's
 * REPL (SDK loaded) versus `tsx` starting an empty REPL, interleaved in the same run.
 *
 *   npx tsx bench/repl/run.ts [--runs 9]
 *
 * What is measured, honestly:
 * - "qemukit (node repl/launch.js)": plain node running the cached esbuild bundle of the REPL
 *   and the SDK (the bundle is built before timing; a stale bundle costs one esbuild build).
 *   The whole SDK is imported before the prompt; zx and the recipes load right after it,
 *   and every input waits for them: the "first answer" column shows the time until the
 *   answer to `typeof $` (zx loaded, the input transpiled by esbuild and evaluated).
 * - "qemukit (bin/qemukit.js repl)": the installed command, which today boots tsx first.
 * - "tsx (empty REPL)": `tsx` with no arguments, its own TypeScript REPL.
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, type PtyTiming, timeToPrompt } from "./pty.ts";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;

const state = mkdtempSync(join(tmpdir(), "qemukit-bench-repl-"));
const env = { ...process.env, XDG_STATE_HOME: state, TERM: "xterm-256color", NO_COLOR: undefined };
const typeofZx = { line: "typeof $", answer: /'function'/ };

interface Contender {
  readonly label: string;
  readonly argv: readonly string[];
  readonly prompt: RegExp;
  readonly input?: { readonly line: string; readonly answer: RegExp };
}
const contenders: Contender[] = [
  {
    label: "qemukit (node repl/launch.js)",
    argv: [process.execPath, "repl/launch.js"],
    prompt: /qemukit> $/,
    input: typeofZx,
  },
  { label: "tsx (empty REPL)", argv: [join(root, "node_modules/.bin/tsx")], prompt: /> $/ },
  { label: "qemukit (bin/qemukit.js repl)", argv: [process.execPath, "bin/qemukit.js", "repl"], prompt: /qemukit> $/ },
];

try {
  execFileSync(process.execPath, ["repl/launch.js", "--build-only"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const results = new Map<string, PtyTiming[]>(contenders.map((c) => [c.label, []]));
  // One warm-up round (disk cache), then interleaved rounds so load changes hit all alike.
  for (let i = 0; i <= runs; i++) {
    for (const c of contenders) {
      const t = await timeToPrompt(c.argv, {
        cwd: root,
        env,
        prompt: c.prompt,
        ...(c.input ? { input: c.input } : {}),
      });
      if (i > 0) results.get(c.label)!.push(t);
    }
  }
  const tsx = median(results.get("tsx (empty REPL)")!.map((t) => t.prompt));
  const ms = (n: number) => `${Math.round(n)} ms`.padStart(7);
  console.log(`time to first prompt on a pty, median of ${runs} (node ${process.version})`);
  for (const c of contenders) {
    const ts = results.get(c.label)!;
    const p = median(ts.map((t) => t.prompt));
    const answers = ts.flatMap((t) => (t.answer === undefined ? [] : [t.answer]));
    const extra = answers.length ? `   first answer ${ms(median(answers))}` : "";
    console.log(`  ${c.label.padEnd(32)} ${ms(p)}   ratio vs tsx ${(p / tsx).toFixed(2)}${extra}`);
  }
  const ratio = median(results.get(contenders[0]!.label)!.map((t) => t.prompt)) / tsx;
  console.log(`qemukit REPL / tsx REPL = ${ratio.toFixed(2)} (target <= 0.80): ${ratio <= 0.8 ? "met" : "NOT met"}`);
} finally {
  rmSync(state, { recursive: true, force: true });
}
