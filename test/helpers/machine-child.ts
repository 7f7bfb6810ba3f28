/**
 * Child script for the machine tests: starts a VM, prints one JSON line
 * `{ pid, runDir, name }`, then acts according to argv[2]:
 * - "hold": keeps running until killed (tests SIGKILL/SIGTERM/crash cleanup);
 * - "crash": throws an uncaught exception after reporting;
 * - "daemon": starts with daemonize, detaches and exits 0.
 * argv[3] = "tiny" boots the tiny guest instead of a bare QEMU; argv[4] names the VM;
 * argv[5] adds VNC on that display number, or on the first free one for "auto".
 */
import { startVm } from "../../sdk/machine/mod.ts";
import { Wait } from "../../sdk/machine/wait.ts";
import { bareSpec, tinySpec } from "./machine-fixtures.ts";

const mode = process.argv[2] ?? "hold";
const guest = process.argv[3] ?? "bare";
const name = process.argv[4];
const base = guest === "tiny" ? await tinySpec() : { spec: bareSpec(), prompt: undefined };
const display = process.argv[5] === "auto" ? "auto" : process.argv[5] ? Number(process.argv[5]) : undefined;
const spec = {
  ...base.spec,
  daemonize: mode === "daemon",
  ...(name ? { name } : {}),
  ...(display !== undefined
    ? {
        vnc: {
          display: display === "auto" ? 0 : display,
          ...(display === "auto" ? { to: 99 } : {}),
          listen: "127.0.0.1",
          websocket: true,
          password: false,
        },
      }
    : {}),
};
const vm = await startVm(spec, base.prompt ? { waitFor: Wait.forConsole(base.prompt) } : {});
process.stdout.write(JSON.stringify({ pid: vm.pid, runDir: vm.runDir, name: vm.name }) + "\n");
if (mode === "daemon") {
  await vm.detach();
  process.exit(0);
} else if (mode === "crash") {
  setTimeout(() => {
    throw new Error("deliberate crash");
  }, 50);
} else {
  setInterval(() => {}, 1000);
}
