// Boot the tiny guest once as a template, then start clones from its saved state.
// Run: npx tsx docs/examples/template.ts   (the template is cached: the second run skips the boot)
import { guests, vm, Wait } from "../../sdk/mod.ts";

const tiny = await guests.tiny();

const t = await vm()
  .memory(tiny.memoryMiB)
  .kernel(tiny.kernel, { initrd: tiny.initrd, append: tiny.append })
  .network("none")
  .template({ ready: Wait.forConsole(tiny.prompt, { timeout: 120_000 }) });
console.log(`template: ${t.built ? "built" : "from the cache"}, ${t.dir}`);

const started = performance.now();
const clones = await Promise.all([1, 2, 3].map((i) => t.start({ name: `clone-${i}` })));
console.log(`3 clones at a shell in ${((performance.now() - started) / 1000).toFixed(2)} s`);

for (const m of clones) {
  const guestTime = Number((await m.console.run("date +%s")).output);
  console.log(`${m.name}: clock off by ${Math.abs(guestTime - Date.now() / 1000).toFixed(0)} s`);
}
await Promise.all(clones.map((m) => m.shutdown()));
