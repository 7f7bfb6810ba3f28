#!/usr/bin/env -S npx tsx
/**
 * libvirt backend benchmark, every figure measured in the same run on the same machine:
 * the tiny guest started directly by qemukit, through a local libvirtd, and through the
 * same libvirtd over qemu+ssh (a private sshd on loopback), taking turns each round.
 *
 * - start to QMP ready (`start()` resolved, vCPUs paused), start to shell, guest poweroff
 *   to `exited`, and QMP `query-status` round trips per second on each handle;
 * - the QMP transports qemukit could have used through libvirt, on the same domain:
 *   one `virsh qemu-monitor-command` per call, one long-lived virsh session, and qemukit's
 *   own monitor socket (the one it uses).
 *
 * Usage: npx tsx bench/libvirt/run.ts [--rounds N] [--only direct,local,ssh] [--json]
 */
import { startVm } from "../../sdk/machine/start.ts";
import { Wait } from "../../sdk/machine/wait.ts";
import type { VmHandle } from "../../sdk/machine/handle.ts";
import { guests } from "../../sdk/guests/mod.ts";
import { vm } from "../../sdk/spec/builder.ts";
import { libvirt } from "../../sdk/libvirt/mod.ts";
import { VirshSession, virsh } from "../../sdk/libvirt/connection.ts";
import { startPrivateLibvirtd, startPrivateSshd } from "../../test/helpers/libvirt-daemon.ts";

const args = process.argv.slice(2);
const ROUNDS = (() => {
  const i = args.indexOf("--rounds");
  return i >= 0 ? Number(args[i + 1]) : 3;
})();
const JSON_OUT = args.includes("--json");
/** Backends to run (the others are left out): direct, local, ssh. */
const ONLY = (() => {
  const i = args.indexOf("--only");
  return i >= 0 ? (args[i + 1] ?? "").split(",") : ["direct", "local", "ssh"];
})();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : Number.NaN;
};

async function rate(m: VmHandle, ms = 1000): Promise<number> {
  const t = performance.now();
  let n = 0;
  while (performance.now() - t < ms) {
    await m.qmp.execute("query-status");
    n++;
  }
  return n / ((performance.now() - t) / 1000);
}

async function main() {
  const g = await guests.tiny();
  const daemon = await startPrivateLibvirtd();
  const sshd = await startPrivateSshd();
  const tiny = vm().memory(g.memoryMiB).accel("tcg").kernel(g.kernel, { initrd: g.initrd, append: g.append });
  const prompt = new RegExp(g.prompt);
  type Backend = { name: string; start: (waitShell: boolean, i: number) => Promise<VmHandle> };
  const local = libvirt(daemon.uri, { poolPath: daemon.poolDir });
  const ssh = libvirt(sshd.uriFor(daemon.socket), { poolPath: daemon.poolDir });
  const backends: Backend[] = [
    {
      name: "direct",
      start: (w, i) => startVm(tiny.name(`bd-${i}`).spec, w ? { waitFor: Wait.forConsole(prompt) } : { paused: true }),
    },
    {
      name: "libvirt local",
      start: (w, i) =>
        tiny.name(`bl-${i}`).start({ on: local, ...(w ? { waitFor: Wait.forConsole(prompt) } : { paused: true }) }),
    },
    {
      name: "libvirt ssh",
      start: (w, i) =>
        tiny.name(`bs-${i}`).start({ on: ssh, ...(w ? { waitFor: Wait.forConsole(prompt) } : { paused: true }) }),
    },
  ];
  for (const b of [...backends]) {
    if (!ONLY.includes(b.name.replace("libvirt ", ""))) backends.splice(backends.indexOf(b), 1);
  }
  const r: Record<string, { qmpReady: number[]; shell: number[]; exit: number[]; rtps: number[] }> = {};
  for (const b of backends) r[b.name] = { qmpReady: [], shell: [], exit: [], rtps: [] };
  const transports = { spawnPerCall: [] as number[], session: [] as number[], ownMonitor: [] as number[] };
  let seq = 0;
  try {
    // Warm-up: caches (libvirt's QEMU capabilities, uploaded kernel/initrd volumes) as a user's second run sees them.
    for (const b of backends) await (await b.start(false, seq++)).kill();
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...backends].reverse() : backends;
      for (const b of order) {
        let t = performance.now();
        const p = await b.start(false, seq++);
        r[b.name]!.qmpReady.push(performance.now() - t);
        await p.kill();
        t = performance.now();
        const m = await b.start(true, seq++);
        r[b.name]!.shell.push(performance.now() - t);
        r[b.name]!.rtps.push(await rate(m));
        if (b.name === "libvirt local" && round === 0) {
          const uri = local.uri;
          let t0 = performance.now();
          for (let i = 0; i < 20; i++) await virsh(uri, ["qemu-monitor-command", m.name, '{"execute":"query-status"}']);
          transports.spawnPerCall.push(20 / ((performance.now() - t0) / 1000));
          const s = await VirshSession.open(uri);
          t0 = performance.now();
          for (let i = 0; i < 300; i++) await s.run(["qemu-monitor-command", m.name, '{"execute":"query-status"}']);
          transports.session.push(300 / ((performance.now() - t0) / 1000));
          await s.close();
          transports.ownMonitor.push(await rate(m));
        }
        // Time from the guest's poweroff to `exited`; the console write is not awaited.
        t = performance.now();
        m.console.send("poweroff -f\n").catch(() => {});
        await m.exited;
        r[b.name]!.exit.push(performance.now() - t);
      }
    }
  } finally {
    await sshd.stop();
    await daemon.stop();
  }
  const d = r.direct!;
  const rows = backends.map((b) => {
    const x = r[b.name]!;
    return {
      backend: b.name,
      qmpReadyMs: Math.round(median(x.qmpReady)),
      shellMs: Math.round(median(x.shell)),
      shellVsDirect: +(median(x.shell) / median(d.shell)).toFixed(2),
      exitMs: Math.round(median(x.exit)),
      qmpPerSec: Math.round(median(x.rtps)),
    };
  });
  const tr = {
    virshPerCall: Math.round(median(transports.spawnPerCall)),
    virshSession: Math.round(median(transports.session)),
    ownMonitor: Math.round(median(transports.ownMonitor)),
  };
  if (JSON_OUT) {
    console.log(JSON.stringify({ rounds: ROUNDS, rows, transports: tr, raw: r }, null, 2));
    return;
  }
  console.log(`libvirt benchmark, tiny guest under TCG, ${ROUNDS} rounds (medians)`);
  console.log("backend          QMP ready   shell      shell/direct   poweroff->exited   QMP round trips/s");
  for (const x of rows) {
    console.log(
      `${x.backend.padEnd(16)} ${`${x.qmpReadyMs} ms`.padStart(9)}   ${`${x.shellMs} ms`.padStart(8)}   ${`${x.shellVsDirect}x`.padStart(12)}   ${`${x.exitMs} ms`.padStart(16)}   ${String(x.qmpPerSec).padStart(8)}`,
    );
  }
  console.log(
    `QMP through libvirt (local): virsh qemu-monitor-command per call ${tr.virshPerCall}/s, one virsh session ${tr.virshSession}/s, qemukit's own monitor ${tr.ownMonitor}/s`,
  );
}

await main();
