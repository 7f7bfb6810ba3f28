/**
 * Templates of the built-in guests at their root shell, as the REPL's `.template` and the
 * tests that only need "a booted guest" use them.
 * @module
 */
import { guests } from "../guests/guests.ts";
import { Wait } from "../machine/wait.ts";
import { vm } from "../spec/builder.ts";
import { overlay } from "../spec/overlay.ts";
import type { Template } from "./template.ts";

/**
 * The template of a built-in guest at its root prompt: tiny (its memory, no network) or
 * Debian (its memory, 2 vCPUs, user networking, a disk overlay, booted with its own kernel
 * given directly; saved once udev has settled
 * and systemd says the system is up). Cached like any template.
 *
 * @example
 * ```ts
 * const t = await builtInTemplate("tiny");
 * await using m = await t.start();
 * ```
 */
export async function builtInTemplate(
  name: "tiny" | "debian",
  options: { cacheRoot?: string; timeout?: number } = {},
): Promise<Template> {
  const timeout = options.timeout ?? 300_000;
  const common = { ...(options.cacheRoot ? { cacheRoot: options.cacheRoot } : {}) };
  if (name === "tiny") {
    const g = await guests.tiny();
    return vm()
      .memory(g.memoryMiB)
      .network("none")
      .kernel(g.kernel, { initrd: g.initrd, append: g.append })
      .template({ ready: Wait.forConsole(g.prompt, { timeout }), ...common });
  }
  const g = await guests.debian();
  return vm()
    .memory(g.memoryMiB)
    .smp(2)
    .disk(overlay(g.image))
    .kernel(g.kernel, { initrd: g.initrd, append: g.append })
    .template({
      ready: Wait.forConsole(g.prompt, { timeout }),
      // The root shell comes up while udev still works through the devices; saved then, every
      // clone would redo that work (measured: udev workers at ~45% CPU in each fresh clone).
      prepare: async (m) => {
        await m.console.run("udevadm settle; systemctl is-system-running --wait >/dev/null 2>&1; true", { timeout });
      },
      id: "debian-settled-1",
      ...common,
    });
}
