/**
 * `qemukit types generate`: start the installed QEMU, read its QMP schema and write the
 * `@qemu-types/qmp` sources (or check that they are up to date).
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TimeoutError, ToolNotFoundError } from "../../errors/errors.ts";
import { QmpConnectionError } from "../errors.ts";
import { QmpClient } from "../client.ts";
import { renderTypes, type GeneratedFiles, type QemuIdentity } from "./render.ts";
import type { SchemaEntry } from "./schema.ts";

/** Where the committed baseline lives: `packages/qmp-types/src` of this checkout. */
export const DEFAULT_TYPES_DIR = fileURLToPath(new URL("../../../packages/qmp-types/src/", import.meta.url));

/** Options for {@link generateTypes}. */
export interface GenerateTypesOptions {
  /** QEMU binary to introspect. @default "qemu-system-x86_64" */
  readonly qemu?: string;
  /** Output directory. @default `packages/qmp-types/src` of the qemukit checkout */
  readonly outDir?: string;
  /** Do not write; report which files differ from what would be generated. */
  readonly check?: boolean;
}

/** What {@link generateTypes} did. */
export interface GenerateTypesResult {
  readonly qemu: QemuIdentity;
  readonly outDir: string;
  /** Every generated file name. */
  readonly files: readonly string[];
  /** Files whose content differs from what is on disk (written unless `check`). */
  readonly changed: readonly string[];
}

/**
 * Reads the schema of a freshly started QEMU (`-machine none`, paused, no devices) and
 * returns it with QEMU's identity. The QEMU process is always killed afterwards.
 *
 * @example
 * ```ts
 * const { schema, qemu } = await readQemuSchema();
 * console.log(qemu.version, schema.length);
 * ```
 */
export async function readQemuSchema(
  qemuBinary = "qemu-system-x86_64",
): Promise<{ schema: SchemaEntry[]; qemu: QemuIdentity }> {
  const dir = mkdtempSync(join(tmpdir(), "qk-typegen-"));
  const socket = join(dir, "qmp.sock");
  const child = spawn(
    qemuBinary,
    [
      "-machine",
      "none",
      "-accel",
      "tcg",
      "-nodefaults",
      "-display",
      "none",
      "-S",
      "-qmp",
      `unix:${socket},server=on,wait=off`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<Error | number | null>((resolve) => {
    child.once("error", (e) => resolve(e));
    child.once("exit", (code) => resolve(code));
  });
  try {
    // Wait for the socket ourselves so that a QEMU that dies early ends the wait at once.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const result = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))]);
      if (result instanceof Error && (result as NodeJS.ErrnoException).code === "ENOENT") {
        throw new ToolNotFoundError(qemuBinary, "qemu-system-x86");
      }
      if (result !== undefined) {
        throw new QmpConnectionError(
          "QMP_CONNECT",
          `${qemuBinary} exited (${String(result)}) before its QMP socket was ready: ${stderr.trim()}`,
          {
            advice: "run the same QEMU by hand with -machine none -display none -qmp stdio to see why",
          },
        );
      }
      if (existsSync(socket)) break;
      if (Date.now() > deadline) {
        throw new TimeoutError(`${qemuBinary} creating its QMP socket`, 15_000, {
          advice: "the machine may be overloaded; try again",
        });
      }
    }
    const qmp = await QmpClient.connect(socket, { retryUntil: Date.now() + 2_000, timeout: 15_000 });
    try {
      const schema = (await qmp.schema()) as unknown as SchemaEntry[];
      const v = await qmp.execute("query-version");
      return {
        schema,
        qemu: { version: `${v.qemu.major}.${v.qemu.minor}.${v.qemu.micro}`, package: v.package.trim() },
      };
    } finally {
      await qmp.close();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Regenerates the `@qemu-types/qmp` sources from the installed QEMU. Files are replaced
 * atomically (write to a temp file, then rename), so a failure leaves the old ones intact.
 *
 * @example
 * ```ts
 * const r = await generateTypes({ check: true });
 * if (r.changed.length) console.log("stale:", r.changed);
 * ```
 */
export async function generateTypes(options: GenerateTypesOptions = {}): Promise<GenerateTypesResult> {
  const { schema, qemu } = await readQemuSchema(options.qemu);
  const files: GeneratedFiles = renderTypes(schema, qemu);
  const outDir = options.outDir ?? DEFAULT_TYPES_DIR;
  const changed = Object.keys(files).filter((name) => {
    const path = join(outDir, name);
    return !existsSync(path) || readFileSync(path, "utf8") !== files[name];
  });
  if (!options.check && changed.length) {
    mkdirSync(outDir, { recursive: true });
    for (const name of changed) {
      const path = join(outDir, name);
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, files[name]!);
      renameSync(tmp, path);
    }
  }
  return { qemu, outDir, files: Object.keys(files), changed };
}
