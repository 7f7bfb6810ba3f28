/**
 * `qemukit recipe <id>`: run one lab recipe (the same as `npx tsx recipes/<id>.ts`).
 * Recipes are loaded by path at run time; nothing in sdk/ depends on them statically.
 * @module
 */
import { type CliCommand, UsageError } from "../command.ts";

const help = `usage: qemukit recipe <id> [--json] [--image PATH] [--guest debian|tiny] [--out DIR] [--display N] [--on URI]
       qemukit recipe --list

Runs one exercise of the KVM lab for real and reports what it observed: a readable
account of each step, or with --json one JSON object on stdout (progress on stderr).

options:
  --list          list the recipes with the lab section each one reproduces
  --json          print the observations as one JSON object
  --image PATH    boot your own base image (e.g. debian-11.qcow2) instead of the built-in Debian guest
  --guest NAME    built-in guest: debian (default) or tiny
  --out DIR       where screenshots go (default ./lab-output)
  --display N     VNC display for the vnc recipe (default 1)
  --on URI        start-vm, overlays: run the VMs through libvirt at URI
                  (qemu:///system, qemu+ssh://root@host/system); the others refuse it

examples:
  qemukit recipe --list
  qemukit recipe create-disk --json
  qemukit recipe add-disk --image ~/work/debian-11.qcow2
  qemukit recipe overlays --on qemu+ssh://root@host/system
`;

/** The `recipe` command. */
export const command: CliCommand = {
  name: "recipe",
  summary: "run one lab recipe (qemukit recipe --list)",
  help,
  async run(args, io) {
    const { recipes, recipeIds } = await import("../../../recipes/index.ts");
    const [id, ...rest] = args;
    if (id === undefined || id === "--list" || id === "list") {
      if (id === undefined) {
        io.stderr.write(help);
        return 2;
      }
      const w = Math.max(...recipeIds.map((r) => r.length));
      for (const r of recipeIds)
        io.stdout.write(
          `${r.padEnd(w)}  ${recipes[r].meta.title}\n${" ".repeat(w)}  lab: ${recipes[r].meta.exercise}\n`,
        );
      return 0;
    }
    if (!(recipeIds as readonly string[]).includes(id)) {
      throw new UsageError(`unknown recipe '${id}' (one of: ${recipeIds.join(", ")})`);
    }
    const { runRecipeCli } = await import("../../../recipes/lib/main.ts");
    return runRecipeCli(recipes[id as keyof typeof recipes], rest, io);
  },
};
