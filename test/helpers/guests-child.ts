/**
 * Child process for the guests tests: `tiny` builds the tiny guest into
 * $QEMUKIT_CACHE (the test SIGKILLs it mid-build); `hang` runs a cached build whose
 * build step never finishes.
 */
import { cachedBuild } from "../../sdk/guests/cache.ts";
import { tiny } from "../../sdk/guests/tiny.ts";

const mode = process.argv[2];
if (mode === "tiny") {
  await tiny({ progress: (p) => console.log(JSON.stringify(p)) });
  console.log(JSON.stringify({ done: true }));
} else if (mode === "hang") {
  await cachedBuild({
    name: "tiny",
    recipe: { test: "hang" },
    cacheRoot: process.env.QEMUKIT_CACHE,
    build: async (tmp) => {
      const { writeFile } = await import("node:fs/promises");
      await writeFile(`${tmp}/partial`, "half");
      console.log(JSON.stringify({ building: tmp }));
      await new Promise(() => {});
      return {};
    },
  });
}
