/**
 * The parent-death guard every child qemukit starts runs under: `setpriv --pdeathsig
 * SIGKILL -- program ...`. setpriv sets the signal with prctl(PR_SET_PDEATHSIG) and then
 * execs the program (no extra process), so the program is killed when the Node process
 * dies, even by SIGKILL, which no handler can catch.
 *
 * Two limits of the kernel mechanism: the signal is tied to the spawning thread (spawn from
 * the main thread, not a worker_thread), and it is cleared across fork, so a program that
 * daemonizes (QEMU's `-daemonize`) escapes it; the run-directory marker covers that case.
 * @module
 */
import { ToolNotFoundError } from "../errors/errors.ts";
import { which } from "./exec.ts";
import { debianPackageOf } from "./programs.ts";

let setprivPath: Promise<string | undefined> | undefined;
/** PATH lookups, once per process; a failed lookup is retried next time. */
const programs = new Map<string, Promise<string | undefined>>();

/**
 * Returns `argv` wrapped in `setpriv --pdeathsig SIGKILL --`, with the program resolved on
 * PATH first, so a missing program is a ToolNotFoundError rather than setpriv's exit 127.
 *
 * @example
 * ```ts
 * const guarded = await withParentDeathSignal(["qemu-img", "info", "disk.qcow2"], "qemu-utils");
 * // ["/usr/bin/setpriv", "--pdeathsig", "SIGKILL", "--", "/usr/bin/qemu-img", "info", "disk.qcow2"]
 * ```
 * @throws {ToolNotFoundError} when setpriv (util-linux) or the program is missing.
 */
export async function withParentDeathSignal(argv: readonly string[], debianPackage?: string): Promise<string[]> {
  setprivPath ??= which("setpriv");
  const setpriv = await setprivPath;
  if (!setpriv) {
    setprivPath = undefined;
    throw new ToolNotFoundError("setpriv", debianPackageOf("setpriv"));
  }
  const program = argv[0]!;
  let found = programs.get(program);
  if (!found) programs.set(program, (found = which(program)));
  const path = await found;
  if (!path) {
    programs.delete(program);
    throw new ToolNotFoundError(program, debianPackage);
  }
  return [setpriv, "--pdeathsig", "SIGKILL", "--", path, ...argv.slice(1)];
}
