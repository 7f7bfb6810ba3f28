/**
 * Holds a real QEMU lock on an image: qemu-system-x86_64 with `-machine none`, paused,
 * the image opened as a drive. Cheap (no guest runs) and exactly what a VM does to an image.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";

/** A running QEMU holding `path`; `release()` kills exactly this process. */
export interface LockHolder {
  readonly pid: number;
  release(): Promise<void>;
}

function isLocked(path: string, format: string): boolean {
  try {
    execFileSync("qemu-img", ["info", "-f", format, path], { stdio: "pipe" });
    return false;
  } catch (e) {
    return /lock/.test(String((e as { stderr?: Buffer }).stderr ?? ""));
  }
}

/** Starts QEMU with the image open read-write and waits until its lock is visible. */
export async function holdImageLock(path: string, format = "qcow2"): Promise<LockHolder> {
  const child: ChildProcess = spawn(
    "qemu-system-x86_64",
    [
      "-machine",
      "none",
      "-nodefaults",
      "-display",
      "none",
      "-S",
      "-drive",
      `file=${path.replaceAll(",", ",,")},format=${format},if=none,id=d0`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const release = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  const deadline = Date.now() + 15_000;
  while (!isLocked(path, format)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await release();
      throw new Error(`QEMU did not lock ${path}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid!, release };
}
