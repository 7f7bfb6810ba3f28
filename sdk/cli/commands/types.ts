/**
 * `qemukit types generate`: regenerate `@qemu-types/qmp` from the installed QEMU.
 * @module
 */
import { parseFlags } from "../args.ts";
import type { CliCommand } from "../command.ts";
import { generateTypes } from "../../qmp/typegen/generate.ts";

const generate: CliCommand = {
  name: "generate",
  summary: "Generate QMP TypeScript types from the installed QEMU's schema",
  help: `Usage: qemukit types generate [--out DIR] [--qemu BINARY] [--check]

Starts QEMU (-machine none, paused), reads query-qmp-schema and query-version, and
writes generated.ts + index.ts of the @qemu-types/qmp package.

Options:
  --out DIR        output directory (default: packages/qmp-types/src of this checkout)
  --qemu BINARY    QEMU system emulator to introspect (default: qemu-system-x86_64)
  --check          write nothing; exit 1 if the files differ from what would be generated

Examples:
  qemukit types generate
  qemukit types generate --check
  qemukit types generate --qemu /opt/qemu-9/bin/qemu-system-x86_64 --out ./qmp-types`,
  run: async (args, io) => {
    const { values } = parseFlags(
      args,
      {
        out: { type: "string" },
        qemu: { type: "string" },
        check: { type: "boolean" },
      },
      0,
    );
    const r = await generateTypes({ outDir: values.out, qemu: values.qemu, check: values.check });
    if (values.check) {
      if (r.changed.length) {
        io.stdout.write(
          `out of date for QEMU ${r.qemu.version}: ${r.changed.join(", ")} in ${r.outDir}\n  → run: qemukit types generate\n`,
        );
        return 1;
      }
      io.stdout.write(`up to date with QEMU ${r.qemu.version} (${r.outDir})\n`);
      return 0;
    }
    io.stdout.write(
      r.changed.length
        ? `wrote ${r.changed.join(", ")} to ${r.outDir} from QEMU ${r.qemu.version}\n`
        : `already up to date with QEMU ${r.qemu.version} (${r.outDir})\n`,
    );
    return 0;
  },
};

/** The `types` command group. */
export const command: CliCommand = {
  name: "types",
  summary: "Generated QMP types (@qemu-types/qmp)",
  help: `Usage: qemukit types <command>

TypeScript types for QMP, generated from the installed QEMU's own schema.`,
  subcommands: [generate],
};
