// Deno smoke test (run by `npm test` as `deno run -A test/deno/smoke.ts`): the SDK imported
// from its TypeScript sources under Deno drives real qemu-img and a real QEMU over QMP.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { image, vm } from "../../sdk/mod.ts";
import { QmpClient } from "../../sdk/qmp/mod.ts";
import { queryVnc } from "../../sdk/machine/running-vm.ts";
import { startWebConsole } from "../../sdk/web/mod.ts";
import { WebSocket } from "ws";

function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`deno smoke: ${what}`);
}

const dir = await mkdtemp(join(tmpdir(), "qemukit-deno-"));
let qemu: ReturnType<typeof spawn> | undefined;
try {
  const disk = join(dir, "disk.qcow2");
  await image.create(disk, "64M", { format: "qcow2" });
  const info = await image.info(disk);
  check(info.format === "qcow2", `format ${info.format}`);
  check(Number(info.virtualSize) === 64 * 1024 * 1024, `virtual size ${info.virtualSize}`);

  const argv = vm().memory(128).disk(disk).toArgv({ runDir: dir });
  check(
    argv.some((a) => a.includes("disk.qcow2")),
    "argv names the disk",
  );

  const sock = join(dir, "qmp.sock");
  qemu = spawn(
    "qemu-system-x86_64",
    [
      "-machine",
      "none",
      "-nodefaults",
      "-display",
      "none",
      "-vnc",
      "127.0.0.1:0,to=99",
      "-qmp",
      `unix:${sock},server=on,wait=off`,
    ],
    { stdio: "ignore" },
  );
  const qmp = await QmpClient.connect(sock, { retryUntil: Date.now() + 10_000 });
  const status = await qmp.execute("query-status");
  check(typeof status.status === "string", "query-status answered");
  // The web console under Deno: node:http + ws, the browser files found, the token
  // enforced, and the VNC websocket bridged to QEMU's VNC port (its RFB greeting comes through).
  const vnc = await queryVnc(qmp);
  check(vnc, "query-vnc reports the VNC server");
  const web = await startWebConsole({
    name: "deno-smoke",
    qmp,
    vnc,
    hasConsole: false,
    console: undefined as never,
    exited: new Promise(() => {}),
  });
  check(
    (await (await fetch(`${web.url}novnc/core/rfb.js`)).text()).includes("export default class RFB"),
    "noVNC served",
  );
  const refused = await fetch(web.url.replace(/\/[^/]+\/$/, "/app.js"));
  await refused.body?.cancel();
  check(refused.status === 403, `no token: ${refused.status}`);
  const greeting = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`${web.url.replace("http:", "ws:")}vnc`);
    ws.on("message", (data: Buffer) => {
      resolve(data.toString("latin1"));
      ws.close();
    });
    ws.on("error", reject);
  });
  check(greeting.startsWith("RFB 003.008"), `VNC greeting through the bridge: ${JSON.stringify(greeting)}`);
  await web.close();

  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  check(deno, "running under Deno");
  console.log(`deno smoke: ok (Deno ${deno.version.deno}, QEMU ${qmp.qemuVersion}, status ${status.status})`);
  await qmp.close();
} finally {
  qemu?.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
}
