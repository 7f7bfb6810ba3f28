// Runs the benchmarks one after another (they would disturb each other in parallel):
//   npm run bench [-- qmp machine images repl template guest]
// Each prints its own table with ratios against a baseline measured in the same run.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const all = ["qmp", "machine", "images", "repl", "template", "guest", "libvirt"] as const;
const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(all as readonly string[]).includes(a));
if (unknown.length) {
  console.error(`unknown benchmark: ${unknown.join(", ")} (choose from: ${all.join(", ")})`);
  process.exit(2);
}
let failed = 0;
for (const name of asked.length ? asked : all) {
  console.log(`\n== bench/${name} ==`);
  const script = fileURLToPath(new URL(`./${name}/run.ts`, import.meta.url));
  const r = spawnSync(process.execPath, ["--import", "tsx", script], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
