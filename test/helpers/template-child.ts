/**
 * Child process for the template tests: asks for the tiny guest's template in the cache
 * root given as argv[2] and reports whether this process built it, and where it is.
 */
import { guests } from "../../sdk/guests/mod.ts";
import { Wait } from "../../sdk/machine/wait.ts";
import { vm } from "../../sdk/spec/builder.ts";

const g = await guests.tiny();
const t = await vm()
  .accel("tcg")
  .memory(Number(process.argv[3] ?? 256))
  .network("none")
  .kernel(g.kernel, { initrd: g.initrd, append: g.append })
  .template({ ready: Wait.forConsole(g.prompt, { timeout: 240_000 }), cacheRoot: process.argv[2]! });
console.log(JSON.stringify({ built: t.built, dir: t.dir, pid: process.pid }));
