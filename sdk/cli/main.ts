#!/usr/bin/env -S npx tsx
/**
 * The `qemukit` command. Top-level commands load lazily so `qemukit --help` and the REPL
 * start fast; each command module exports `command: CliCommand`.
 * @module
 */
import { QemukitError } from "../errors/errors.ts";
import { type CliCommand, type CliIO, UsageError } from "./command.ts";

interface LazyCommand {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ command: CliCommand }>;
}

/** Every top-level command, in the order `--help` lists them. */
export const commands: readonly LazyCommand[] = [
  {
    name: "lab",
    summary: "run every lab exercise on the built-in Debian guest and write a report",
    load: () => import("./commands/lab.ts"),
  },
  { name: "recipe", summary: "run one lab recipe (qemukit recipe --list)", load: () => import("./commands/recipe.ts") },
  {
    name: "repl",
    summary: "interactive TypeScript session with the SDK preloaded",
    load: () => import("./commands/repl.ts"),
  },
  { name: "vm", summary: "list running qemukit VMs, stop or kill them", load: () => import("./commands/vm.ts") },
  {
    name: "guest",
    summary: "build and list the built-in guests (tiny, debian, installer)",
    load: () => import("./commands/guest.ts"),
  },
  {
    name: "template",
    summary: "list and prune saved VM templates",
    load: () => import("./commands/template.ts"),
  },
  {
    name: "image",
    summary: "qemu-img, typed: info, create, overlay, convert, snapshot ...",
    load: () => import("./commands/image.ts"),
  },
  { name: "host", summary: "check this host for virtualization support", load: () => import("./commands/host.ts") },
  {
    name: "verify",
    summary: "verify SHA*SUMS files and OpenPGP signatures",
    load: () => import("./commands/verify.ts"),
  },
  {
    name: "types",
    summary: "generate @qemu-types/qmp from the installed QEMU's schema",
    load: () => import("./commands/types.ts"),
  },
];

const topHelp = () =>
  [
    "usage: qemukit <command> [options]",
    "",
    "Script QEMU/KVM: VMs, disk images, QMP, and the KVM lab's exercises.",
    "",
    "commands:",
    ...commands.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`),
    "",
    "Run 'qemukit <command> --help' for a command's options.",
  ].join("\n") + "\n";

function helpOf(cmd: CliCommand): string {
  const lines = [cmd.help.trimEnd()];
  if (cmd.subcommands?.length) {
    lines.push("", "subcommands:", ...cmd.subcommands.map((s) => `  ${s.name.padEnd(10)} ${s.summary}`));
  }
  return lines.join("\n") + "\n";
}

async function dispatch(cmd: CliCommand, args: readonly string[], io: CliIO, path: string): Promise<number> {
  const [first, ...rest] = args;
  if (cmd.subcommands?.length) {
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      (first === undefined && !cmd.run ? io.stderr : io.stdout).write(helpOf(cmd));
      return first === undefined && !cmd.run ? 2 : 0;
    }
    const sub = cmd.subcommands.find((s) => s.name === first);
    if (sub) return dispatch(sub, rest, io, `${path} ${sub.name}`);
    if (!cmd.run || !first.startsWith("-")) {
      throw new UsageError(
        `unknown subcommand '${first}' for '${path}' (expected one of: ${cmd.subcommands.map((s) => s.name).join(", ")})`,
      );
    }
  }
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(helpOf(cmd));
    return 0;
  }
  if (!cmd.run) throw new UsageError(`'${path}' needs a subcommand`);
  return cmd.run(args, io);
}

/**
 * Runs the CLI with `argv` (without the node/script prefix) and returns the exit code:
 * 0 success, 1 failure, 2 usage error.
 *
 * @example
 * ```ts
 * process.exitCode = await main(["host", "check", "--json"]);
 * ```
 */
export async function main(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout).write(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    const { VERSION } = await import("../version.ts");
    io.stdout.write(`qemukit ${VERSION}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  try {
    if (!entry) throw new UsageError(`unknown command '${name}' (run 'qemukit --help' for the list)`);
    const { command } = await entry.load();
    return await dispatch(command, rest, io, `qemukit ${name}`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`qemukit: ${e.message}\n`);
      return 2;
    }
    if (e instanceof QemukitError) {
      io.stderr.write(`qemukit: ${e.message}\n  [${e.code}]\n`);
      return 1;
    }
    throw e;
  }
}

const isEntry = (() => {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return (
      import.meta.url === new URL(`file://${arg.startsWith("/") ? "" : process.cwd() + "/"}${arg}`).href ||
      (import.meta.url.endsWith("/sdk/cli/main.ts") && arg.endsWith("sdk/cli/main.ts")) ||
      (import.meta.url.endsWith("/sdk/cli/main.js") && arg.endsWith("sdk/cli/main.js"))
    );
  } catch {
    return false;
  }
})();

if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`qemukit: unexpected error: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
