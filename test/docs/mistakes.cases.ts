/**
 * The common mistakes of docs/mistakes.md, one entry each: what the user did, how to make
 * that mistake for real, and the code and message qemukit answers with. The table in the
 * doc is rendered from this list (`npx tsx test/docs/mistakes.cases.ts --write`), and
 * test/docs/mistakes.test.ts makes every mistake and compares what comes back.
 *
 * To add a row: add one entry below and re-run the command above. An entry without
 * `trigger` is rendered but not checked: give every row a trigger.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { attach, fromCommandLine, image, overlay, vm, type RunningVm } from "../../sdk/mod.ts";
import { QmpClient } from "../../sdk/qmp/mod.ts";
import { kvmWarning } from "../../sdk/host/accel.ts";
import { Template } from "../../sdk/template/mod.ts";
import { makeHostRoot } from "../helpers/host-fixtures.ts";

/** What the triggers share: a scratch directory, a running tiny guest, a bare QEMU's QMP. */
export interface MistakeContext {
  readonly dir: string;
  /** A tiny guest at its shell prompt (daemonized, detached: its monitor is free). */
  readonly guest: () => Promise<RunningVm>;
  /** A QMP client of a running bare QEMU. */
  readonly qmp: () => Promise<QmpClient>;
  /** A VM started for one case; stopped after the test. */
  readonly track: (m: RunningVm) => RunningVm;
}

/** One mistake. `message` is compared with `…` matching any text (whitespace normalized). */
export interface Mistake {
  readonly id: string;
  /** What was done, as markdown (code in backticks). */
  readonly mistake: string;
  /** The error code, or "-" when the answer is no error (a warning, a note). */
  readonly code: string;
  /** The message (first line and advice), with `…` for the parts that vary. */
  readonly message: string;
  /** Makes the mistake; resolves with the error thrown (or the text shown when no error). */
  readonly trigger?: (ctx: MistakeContext) => Promise<unknown>;
}

const fails = async (p: Promise<unknown> | (() => unknown)): Promise<unknown> => {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error("the mistake did not fail");
};

const bare = () => vm().accel("tcg").memory(64).network("none");

export const MISTAKES: readonly Mistake[] = [
  {
    id: "disk-missing",
    mistake: '`vm().disk("debian.qcow2")` with a path that does not exist',
    code: "VM_START",
    message:
      "disk image …/no-such-disk.qcow2 does not exist → check the path (relative paths are relative to the current directory: …)",
    trigger: (c) => fails(bare().disk(join(c.dir, "no-such-disk.qcow2")).start()),
  },
  {
    id: "overlay-base-missing",
    mistake: '`disk(overlay("debian.qcow2"))` with a base that does not exist',
    code: "VM_START",
    message:
      "image …/no-such-base.qcow2 does not exist → check the path (relative paths are relative to the current directory: …)",
    trigger: (c) =>
      fails(
        bare()
          .disk(overlay(join(c.dir, "no-such-base.qcow2")))
          .start(),
      ),
  },
  {
    id: "info-text-file",
    mistake: "`image.info()` on a file that is no disk image (a text file)",
    code: "-",
    message:
      'format: raw was guessed (…/notes.txt has no disk image header); pass { format: "raw" } if that is right, else check the path',
    trigger: async (c) => {
      const file = join(c.dir, "notes.txt");
      writeFileSync(file, "just some notes\n");
      return (await image.info(file)).summary.split("\n").at(-1);
    },
  },
  {
    id: "image-info-missing",
    mistake: "`image.info()` of a path that does not exist",
    code: "IMAGE_NOT_FOUND",
    message: "image …/missing.qcow2 does not exist → check the path (…)",
    trigger: (c) => fails(image.info(join(c.dir, "missing.qcow2"))),
  },
  {
    id: "image-create-exists",
    mistake: "`image.create()` over an existing file",
    code: "IMAGE_EXISTS",
    message:
      "…/exists.qcow2 already exists → pass { overwrite: true } (CLI: --overwrite) to replace it, or choose another path",
    trigger: async (c) => {
      const file = join(c.dir, "exists.qcow2");
      await image.create(file, "1M", { format: "qcow2" });
      return fails(image.create(file, "1M", { format: "qcow2" }));
    },
  },
  {
    id: "image-size-invalid",
    mistake: '`image.create(path, { size: "10 gigs" })`',
    code: "SIZE_INVALID",
    message:
      'invalid size "10 gigs": not a size → give bytes (1073741824) or a number with a binary unit: "512M", "2G", "1.5T" (K, M, G, T, P, E; "GiB" also works)',
    trigger: (c) => fails(image.create(join(c.dir, "s.qcow2"), "10 gigs", { format: "qcow2" })),
  },
  {
    id: "image-locked",
    mistake: "`image.resize()` of a disk a running VM uses",
    code: "IMAGE_LOCKED",
    message:
      '…locked.qcow2 is locked by the running VM "mistake-locker" → shut down "mistake-locker" first, or work on an overlay of the image; read-only inspection (image.info) still works',
    trigger: async (c) => {
      const file = join(c.dir, "locked.qcow2");
      await image.create(file, "16M", { format: "qcow2" });
      c.track(await bare().name("mistake-locker").disk(file).start());
      return fails(image.resize(file, "32M"));
    },
  },
  {
    id: "memory-invalid",
    mistake: '`vm().memory("lots")`',
    code: "SPEC_SIZE",
    message: 'invalid size "lots" → write a number with an optional binary unit, e.g. "512M", "2G" or "10GiB"',
    trigger: () => fails(() => vm().memory("lots")),
  },
  {
    id: "smp-zero",
    mistake: "`vm().smp(0)`",
    code: "SPEC_SMP",
    message: "smp cpus must be a whole number from 1 to 4096, got 0 → the lab uses smp(2)",
    trigger: () => fails(() => vm().smp(0)),
  },
  {
    id: "vnc-display-range",
    mistake: "`vm().vnc(65901)` (a port number where a display number belongs)",
    code: "SPEC_VNC_DISPLAY",
    message:
      "VNC display 65901 is out of range → use a display from 0 to 59635: display N listens on TCP port 5900+N (the lab uses vnc(1) -> 5901)",
    trigger: () => fails(() => vm().vnc(65901)),
  },
  {
    id: "forward-twice",
    mistake: "the same host port forwarded twice",
    code: "SPEC_CONFLICT",
    message: "host tcp port 2222 is forwarded twice → forward each host port once",
    trigger: () => fails(() => vm().forward(2222, 22).forward(2222, 80).spec),
  },
  {
    id: "libvirt-window",
    mistake: '`vm().display("gtk").start({ on: libvirt(uri) })` (a window for a VM libvirt runs)',
    code: "LIBVIRT_UNSUPPORTED",
    message:
      'not supported on libvirt: display("gtk" | "sdl" | "curses"), because libvirt runs QEMU as a daemon, outside your terminal and desktop session → use vnc() (or vnc("auto")) and a VNC client, or m.screenshot()',
    trigger: () => fails(() => vm().display("gtk").toDomainXml()),
  },
  {
    id: "cmdline-missing-value",
    mistake: '`fromCommandLine("kvm -hda")` (an option without its value)',
    code: "SPEC_PARSE",
    message: "option -hda needs a value → complete it, e.g. -hda <value>",
    trigger: () => fails(() => fromCommandLine("kvm -hda")),
  },
  {
    id: "vnc-in-use",
    mistake: "a VNC display another VM already uses",
    code: "VM_START",
    message:
      'VNC display :… (TCP port …) is already in use by the qemukit VM "mistake-vnc" (pid …) … → use a free display such as .vnc(…) (port …), or stop "mistake-vnc" first',
    trigger: async (c) => {
      c.track(await bare().name("mistake-vnc").vnc(77).start());
      return fails(bare().vnc(77).start());
    },
  },
  {
    id: "web-open-vnc",
    mistake:
      '`m.web()` on a VM whose VNC listens on all interfaces without a password (`vnc(n, { listen: "0.0.0.0" })`)',
    code: "WEB_VNC_UNPROTECTED",
    message:
      'VM "mistake-open-vnc" shows its screen to anyone who reaches 0.0.0.0:…: its VNC server asks for no password → start it with vnc(…, { listen: "0.0.0.0", password: true }) so that m.web() can set one over QMP, or keep VNC on loopback (the default)',
    trigger: async (c) => {
      const m = c.track(await bare().name("mistake-open-vnc").vnc("auto", { listen: "0.0.0.0" }).start());
      return fails(m.web());
    },
  },
  {
    id: "same-name",
    mistake: "two VMs with the same `name()`",
    code: "VM_RUNNING",
    message: 'a VM named "mistake-twice" is already running (pid …) → …',
    trigger: async (c) => {
      c.track(await bare().name("mistake-twice").start());
      return fails(bare().name("mistake-twice").start());
    },
  },
  {
    id: "attach-missing",
    mistake: "`attach()` a VM that does not run",
    code: "VM_NOT_FOUND",
    message:
      'no running qemukit VM "no-such-vm" (looked in …) → see list() (or `qemukit vm list`) for the VMs that run',
    trigger: () => fails(attach("no-such-vm")),
  },
  {
    id: "attach-busy",
    mistake: "`attach()` while another client holds the VM's monitor",
    code: "VM_BUSY",
    message:
      'the QMP monitor of "mistake-holder" is held by process … (this process) (…) → QEMU allows one QMP client at a time: detach() or end that client first; in this process, use the RunningVm you already have',
    trigger: async (c) => {
      const m = c.track(await bare().name("mistake-holder").start());
      return fails(attach(m.name, { console: false }));
    },
  },
  {
    id: "qmp-unknown-command",
    mistake: '`qmp.executeRaw("query-stauts")` (a typo in a command name)',
    code: "QMP_COMMAND",
    message:
      "QMP command query-stauts failed: The command query-stauts has not been found (CommandNotFound) → did you mean query-status…",
    trigger: async (c) => fails((await c.qmp()).executeRaw("query-stauts")),
  },
  {
    id: "qmp-oob-not-allowed",
    mistake: "`executeRaw(name, args, { oob: true })` for a command that cannot run out-of-band",
    code: "QMP_COMMAND",
    message:
      'QMP command query-status failed: The command query-status does not support OOB (GenericError) → only commands that allow out-of-band execution take { oob: true } (see "allow-oob" in qmp.schema()); send query-status in-band',
    trigger: async (c) => fails((await c.qmp()).executeRaw("query-status", undefined, { oob: true })),
  },
  {
    id: "qmp-bad-string",
    mistake: "a string with a lone surrogate in QMP arguments (e.g. half an emoji cut by `slice()`)",
    code: "QMP_ARGUMENTS",
    message:
      "QMP command qom-get was not sent: a string holds a lone surrogate (U+D83D), which QEMU's JSON parser rejects; … → …",
    trigger: async (c) => fails((await c.qmp()).executeRaw("qom-get", { path: "😀".slice(0, 1), property: "type" })),
  },
  {
    id: "qmp-too-deep",
    mistake: "QMP arguments nested deeper than QEMU accepts",
    code: "QMP_ARGUMENTS",
    message:
      "QMP command qom-get was not sent: nesting depth 1102 (counting the request object) is over QEMU's limit of 1024 → …",
    trigger: async (c) =>
      fails(
        (await c.qmp()).executeRaw("qom-get", {
          path: "/",
          property: "x",
          z: JSON.parse("[".repeat(1100) + "]".repeat(1100)),
        }),
      ),
  },
  {
    id: "qmp-not-a-monitor",
    mistake: "`QmpClient.connect()` to a human monitor socket (`-monitor unix:...`)",
    code: "QMP_CONNECT",
    message:
      "…sent \"QEMU … monitor - type 'help' for more information\" instead of a QMP greeting → the socket is not a QMP monitor (maybe an HMP monitor or a serial console?)",
    trigger: async (c) => {
      const hmp = join(c.dir, "hmp.sock");
      c.track(await bare().args("-monitor", `unix:${hmp},server=on,wait=off`).start());
      return fails(QmpClient.connect(hmp, { timeout: 5000 }));
    },
  },
  {
    id: "qmp-no-socket",
    mistake: "`QmpClient.connect()` before QEMU is up (or to a wrong path)",
    code: "QMP_CONNECT",
    message:
      "could not connect to the QMP socket …/nothing.sock: … → is QEMU running with -qmp unix:PATH,server=on,wait=off …? Pass { retryUntil: Date.now() + 10_000 } to wait for it to start",
    trigger: (c) => fails(QmpClient.connect(join(c.dir, "nothing.sock"))),
  },
  {
    id: "event-never-comes",
    mistake: "`qmp.waitFor()` an event that does not come",
    code: "TIMEOUT",
    message:
      "QMP event SHUTDOWN did not happen within 300 ms → pass a longer { timeout } if the machine is slow (TCG is 10-50x slower than KVM)",
    trigger: async (c) => fails((await c.qmp()).waitFor("SHUTDOWN", { timeout: 300 })),
  },
  {
    id: "guest-command-fails",
    mistake: "`m.console.run()` of a command that fails in the guest",
    code: "GUEST_COMMAND",
    message:
      'guest command "ls /nonexistent" exited with status 1: ls: /nonexistent: No such file or directory → check the command in the guest, or pass { nothrow: true } to get the status instead of an error',
    trigger: async (c) => fails((await c.guest()).console.run("ls /nonexistent")),
  },
  {
    id: "guest-command-hangs",
    mistake: "`m.console.run()` of a command that does not end (it is interrupted with Ctrl-C)",
    code: "TIMEOUT",
    message: 'console output matching the end of "sleep 600" did not happen within … ms → …',
    trigger: async (c) => fails((await c.guest()).console.run("sleep 600", { timeout: 1500 })),
  },
  {
    id: "snapshot-bad-tag",
    mistake: '`m.snapshots.save("before upgrade")` (a space in the tag)',
    code: "VM_SNAPSHOT",
    message: "invalid snapshot tag \"before upgrade\" → use letters, digits, '_', '-', '.', ':'",
    trigger: async (c) => fails((await c.guest()).snapshots.save("before upgrade")),
  },
  {
    id: "use-after-exit",
    mistake: "using a VM handle after the VM exited",
    code: "VM_EXITED",
    message: 'cannot take a screenshot: VM "mistake-exited" has exited (killed) → start a new VM',
    trigger: async (c) => {
      const m = await bare().name("mistake-exited").start();
      await m.kill();
      return fails(m.screenshot(join(c.dir, "s.png")));
    },
  },
  // Owned by the command-line parser and host-check work; their rows are filled in there.
  {
    id: "cmdline-sudo",
    mistake: '`fromCommandLine("sudo -u root kvm -m 512")`',
    code: "-",
    message: "parses: program kvm, 512 MiB, no warnings",
    trigger: async () => {
      const r = fromCommandLine("sudo -u root kvm -m 512");
      return `parses: program ${r.program}, ${r.builder.spec.memoryMiB} MiB, ${r.warnings.length ? "warnings" : "no warnings"}`;
    },
  },
  {
    id: "cmdline-shell-syntax",
    mistake: "a command line with shell syntax (`;`, `&&`, `$(...)`)",
    code: "SPEC_SHELL_SYNTAX",
    message:
      "the command line has shell syntax (&&), not only a QEMU command → pass the qemu-system/kvm command alone: drop what the shell would run around it (pipes, ;, &&, ||, &, redirections, $(...) and `...`), or pass an argv array",
    trigger: () => fails(() => fromCommandLine("kvm -m 512 -hda d.qcow2 && echo done")),
  },
  {
    id: "cmdline-listen-all",
    mistake: "a lab line that listens on all interfaces (`-vnc :1`, `hostfwd=tcp::2222-:22`, QMP over TCP)",
    code: "-",
    message:
      "-vnc :1 listens on all interfaces: VNC display :1 (TCP 5901) is reachable from other machines; to keep it on this one write -vnc 127.0.0.1:1, or vm().vnc(1) (loopback is the builder's default)",
    trigger: async () =>
      fromCommandLine("kvm -hda d.qcow2 -vnc :1")
        .warnings.map((w) => w.message)
        .join("\n"),
  },
  {
    id: "template-mismatch",
    mistake: "`t.start({ spec })` with a spec whose memory differs from the template's",
    code: "TEMPLATE_MISMATCH",
    message:
      "the clone's spec differs from the template's in memoryMiB (template 256, clone 512) → a saved state only loads into the same machine: change only name, VNC, forwarded host ports or keep, or make a template of the new spec (vm()...template())",
    // Refused before anything starts: a Template over a spec alone is enough to show it.
    trigger: async (ctx) => {
      const spec = vm().accel("tcg").memory(256).network("none").spec;
      const t = new Template(
        ctx.dir,
        {
          qemukitTemplate: 2,
          spec,
          accel: "tcg",
          frozen: [],
          clock: "none",
          savedAt: 0,
          bootMs: 0,
          saveMs: 0,
          stateBytes: 0,
        },
        false,
      );
      return await fails(t.start({ spec: { ...spec, memoryMiB: 512 } }));
    },
  },
  {
    id: "accel-kvm-slow",
    mistake: '`accel("kvm")` on a host whose KVM is unusable or far slower than TCG',
    code: "-",
    message:
      'accel("kvm") was asked for, but this host has KVM unusable: …/dev/kvm does not exist, so KVM is unavailable…; use accel("auto") to run guests with the faster one (qemukit host check shows the figures)',
    // What start() emits as a process warning and keeps on m.accel.warning; a fixture host
    // without /dev/kvm makes the answer the same on every machine.
    trigger: async () => {
      using fx = makeHostRoot({ flags: ["fpu", "vmx"], modules: { kvm: undefined, kvm_intel: "Y" } });
      return await kvmWarning({ root: fx.root });
    },
  },
];

/** The table of docs/mistakes.md. */
export function renderTable(mistakes: readonly Mistake[] = MISTAKES): string {
  const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
  const rows = mistakes.map(
    (m, i) => `| ${i + 1} | ${cell(m.mistake)} | ${m.code === "-" ? "-" : `\`${m.code}\``} | ${cell(m.message)} |`,
  );
  return ["| # | mistake | code | what qemukit says |", "|---|---|---|---|", ...rows].join("\n");
}

export const DOC = fileURLToPath(new URL("../../docs/mistakes.md", import.meta.url));
export const BEGIN = "<!-- mistakes:begin (generated from test/docs/mistakes.cases.ts) -->";
export const END = "<!-- mistakes:end -->";

if (process.argv.includes("--write")) {
  const { readFileSync } = await import("node:fs");
  mkdirSync(join(DOC, ".."), { recursive: true });
  const text = readFileSync(DOC, "utf8");
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${DOC} lacks the ${BEGIN} / ${END} markers`);
  writeFileSync(DOC, `${text.slice(0, a + BEGIN.length)}\n${renderTable()}\n${text.slice(b)}`);
  console.log(`wrote ${MISTAKES.length} rows to ${DOC}`);
}
