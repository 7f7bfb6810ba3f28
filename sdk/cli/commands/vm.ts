/**
 * `qemukit vm list|stop|kill|web`: the qemukit VMs running on this host (from their run
 * directories), stopping daemonized ones from the shell, and their web console.
 * @module
 */
import { attach, list } from "../../machine/attach.ts";
import { parseFlags } from "../args.ts";
import { type CliCommand, UsageError } from "../command.ts";

const listCommand: CliCommand = {
  name: "list",
  summary: "list running qemukit VMs (name, pid, accel, VNC port, run directory)",
  help: [
    "usage: qemukit vm list [--json]",
    "",
    "Lists the qemukit VMs running on this host under the run root ($QEMUKIT_RUN_DIR,",
    "else $XDG_RUNTIME_DIR/qemukit, else /tmp/qemukit-<uid>). Stale run directories of",
    "VMs that are gone are removed on the way.",
    "",
    "options:",
    "  --json   print the list as JSON",
  ].join("\n"),
  async run(args, io) {
    const { values } = parseFlags(args, { json: { type: "boolean" } }, 0);
    const vms = await list();
    if (values.json) {
      io.stdout.write(JSON.stringify(vms, null, 2) + "\n");
      return 0;
    }
    if (vms.length === 0) {
      io.stdout.write("no qemukit VMs running\n");
      return 0;
    }
    const rows = [["NAME", "PID", "ACCEL", "VNC", "DAEMON", "RUN DIR"]];
    for (const v of vms) {
      rows.push([
        v.name,
        String(v.pid),
        v.accel?.chosen ?? "?",
        v.vnc ? String(v.vnc.port) : "-",
        v.daemonized ? "yes" : "no",
        v.runDir,
      ]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows)
      io.stdout.write(
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd() + "\n",
      );
    return 0;
  },
};

function stopLike(name: "stop" | "kill"): CliCommand {
  const hard = name === "kill";
  return {
    name,
    summary: hard
      ? "SIGKILL a daemonized qemukit VM"
      : "shut down a daemonized qemukit VM (powerdown, quit, SIGTERM, SIGKILL)",
    help: [
      `usage: qemukit vm ${name} <name|run-dir>${hard ? "" : " [--powerdown-timeout MS]"}`,
      "",
      hard
        ? "Kills the VM's QEMU at once and removes its run directory."
        : "Presses the ACPI power button, waits, then asks QEMU to quit, then SIGTERM, then SIGKILL.",
      ...(hard
        ? []
        : [
            "",
            "options:",
            "  --powerdown-timeout MS   how long the guest gets to power off (default 10000; 0 skips it)",
          ]),
    ].join("\n"),
    async run(args, io) {
      const { values, positionals } = parseFlags(args, hard ? {} : { "powerdown-timeout": { type: "string" } }, 1);
      if (!positionals[0]) throw new UsageError("which VM? give its name (see: qemukit vm list)");
      const raw = (values as Record<string, string | undefined>)["powerdown-timeout"];
      const powerdown = raw === undefined ? undefined : Number(raw);
      if (powerdown !== undefined && !(powerdown >= 0))
        throw new UsageError(`--powerdown-timeout wants milliseconds, not ${raw}`);
      const vm = await attach(positionals[0], { console: false });
      const exit = hard
        ? await vm.kill()
        : await vm.shutdown(powerdown === undefined ? {} : { timeouts: { powerdown } });
      io.stdout.write(`${vm.name}: ${exit.reason}\n`);
      return 0;
    },
  };
}

const webCommand: CliCommand = {
  name: "web",
  summary: "serve a daemonized VM's screen and serial console on a local web page; prints its URL",
  help: [
    "usage: qemukit vm web <name|run-dir> [--host ADDR] [--port N]",
    "",
    "Attaches to the VM, prints one URL and serves, until Ctrl-C or the VM exits, a page",
    "with its screen (noVNC, when it has VNC) and its serial console (xterm.js). The URL",
    "carries a random token that every request needs; the server listens on 127.0.0.1.",
    "While it serves, this command holds the VM's monitor: stop it before `qemukit vm stop`.",
    "Ctrl-C stops serving and leaves the VM running.",
    "",
    "options:",
    "  --host ADDR   address to listen on (default 127.0.0.1; others reach it over plain HTTP)",
    "  --port N      TCP port (default: a free one)",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { host: { type: "string" }, port: { type: "string" } }, 1);
    if (!positionals[0]) throw new UsageError("which VM? give its name (see: qemukit vm list)");
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
      throw new UsageError(`--port wants a TCP port number, not ${values.port}`);
    const vm = await attach(positionals[0]);
    let stop: (signal: string) => void = () => {};
    const stopped = new Promise<string>((resolve) => {
      stop = resolve;
    });
    const onSignal = (signal: NodeJS.Signals) => stop(signal);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const web = await vm.web({
        ...(values.host !== undefined ? { host: values.host } : {}),
        ...(port !== undefined ? { port } : {}),
      });
      io.stdout.write(`${web.url}\n`);
      io.stderr.write(`serving the console of ${vm.name}; Ctrl-C stops serving (the VM keeps running)\n`);
      const why = await Promise.race([vm.exited.then((e) => `the VM exited (${e.reason})`), stopped]);
      io.stderr.write(`stopped: ${why}\n`);
      return 0;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // Leaves QEMU running: what was daemonized stays so.
      await vm.detach();
    }
  },
};

/** `qemukit vm`: running VMs. */
export const command: CliCommand = {
  name: "vm",
  summary: "list running qemukit VMs; stop or kill daemonized ones; serve their web console",
  help: "usage: qemukit vm <subcommand>\n\nThe qemukit VMs running on this host.",
  subcommands: [listCommand, stopLike("stop"), stopLike("kill"), webCommand],
};
