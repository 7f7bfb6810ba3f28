import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { commands, main } from "../../sdk/cli/main.ts";
import { VERSION } from "../../sdk/version.ts";
import { repoRoot, runCli } from "../helpers/cli.ts";

function capture() {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: {
        write: (s: string) => {
          out += s;
          return true;
        },
      } as unknown as NodeJS.WritableStream,
      stderr: {
        write: (s: string) => {
          err += s;
          return true;
        },
      } as unknown as NodeJS.WritableStream,
    },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

describe("qemukit CLI", () => {
  it("lists every command in --help and exits 0", () => {
    const r = runCli(["--help"]);
    expect(r.status).toBe(0);
    for (const name of ["repl", "lab", "recipe", "vm", "guest", "host", "types", "image", "verify", "template"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name}\\s`, "m"));
    }
  });

  it("rejects an unknown command with exit 2 and a pointer to --help", () => {
    const r = runCli(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stderr).toContain("qemukit --help");
  });

  it("exits 2 without a command", async () => {
    const c = capture();
    expect(await main([], c.io)).toBe(2);
    expect(c.err).toContain("usage: qemukit");
  });

  it("prints the version from package.json", async () => {
    const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, "utf8"));
    expect(VERSION).toBe(pkg.version);
    const c = capture();
    expect(await main(["--version"], c.io)).toBe(0);
    expect(c.out.trim()).toBe(`qemukit ${pkg.version}`);
  });

  // Every command module must load and answer --help on every level; an unknown
  // subcommand or flag is a usage error (exit 2).
  for (const entry of commands) {
    it(`'${entry.name}' answers --help on every level and rejects bad input with exit 2`, async () => {
      const { command } = await entry.load();
      const walk = async (cmd: typeof command, path: string[]) => {
        const c = capture();
        expect(await main([...path, "--help"], c.io), `${path.join(" ")} --help`).toBe(0);
        expect(c.out.length).toBeGreaterThan(10);
        for (const sub of cmd.subcommands ?? []) await walk(sub, [...path, sub.name]);
      };
      await walk(command, [entry.name]);
      if (command.subcommands?.length) {
        const c = capture();
        expect(await main([entry.name, "no-such-subcommand"], c.io)).toBe(2);
        expect(c.err).toContain("no-such-subcommand");
      }
      const leaf = command.subcommands?.length ? [entry.name, command.subcommands[0]!.name] : [entry.name];
      const c = capture();
      expect(await main([...leaf, "--no-such-flag"], c.io)).toBe(2);
      expect(c.err).toContain("--no-such-flag");
    });
  }
});
