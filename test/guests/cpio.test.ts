import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { writeCpio, writeCpioGz } from "../../sdk/guests/cpio.ts";
import { FileTree } from "../../sdk/guests/file-tree.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("writeCpio", () => {
  it("writes newc headers, 4-byte padding and the trailer", () => {
    const bytes = writeCpio([{ type: "file", path: "a", data: new TextEncoder().encode("xyz"), mode: 0o600 }]);
    const text = new TextDecoder("latin1").decode(bytes);
    expect(text.startsWith("070701")).toBe(true);
    // header 110 + "a\0" 2 = 112 (aligned), data 3 + 1 pad, then the trailer record
    expect(text.slice(112, 115)).toBe("xyz");
    expect(text.slice(116, 122)).toBe("070701");
    expect(text).toContain("TRAILER!!!");
    expect(bytes.length % 4).toBe(0);
    // mode field: regular file 0100600
    expect(parseInt(text.slice(14, 22), 16)).toBe(0o100600);
    expect(parseInt(text.slice(54, 62), 16)).toBe(3);
  });

  it("rejects duplicates and empty paths", () => {
    expect(() =>
      writeCpio([
        { type: "dir", path: "x" },
        { type: "dir", path: "/x/" },
      ]),
    ).toThrow(/duplicate/);
    expect(() => writeCpio([{ type: "dir", path: "/" }])).toThrow(/empty/);
  });

  it("round-trips through the real cpio program (files, dirs, symlinks)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qk-cpio-"));
    dirs.push(dir);
    const tree = new FileTree()
      .file("/etc/deep/nested/file.txt", "hello\n")
      .file("bin/tool", new Uint8Array([0, 1, 2, 3, 4, 255]), 0o755)
      .symlink("bin/alias", "tool")
      .dir("empty", 0o700);
    const archive = join(dir, "a.cpio.gz");
    await writeFile(archive, writeCpioGz(tree.entries()));
    const raw = gunzipSync(await readFile(archive));
    const listing = execFileSync("cpio", ["-t", "--quiet"], { input: raw }).toString().trim().split("\n");
    expect(listing).toEqual([
      "etc",
      "etc/deep",
      "etc/deep/nested",
      "etc/deep/nested/file.txt",
      "bin",
      "bin/tool",
      "bin/alias",
      "empty",
    ]);
    const out = join(dir, "out");
    execFileSync("mkdir", [out]);
    execFileSync("cpio", ["-i", "-d", "--quiet", "--no-absolute-filenames"], { input: raw, cwd: out });
    expect(await readFile(join(out, "etc/deep/nested/file.txt"), "utf8")).toBe("hello\n");
    expect([...(await readFile(join(out, "bin/tool")))]).toEqual([0, 1, 2, 3, 4, 255]);
    expect((await stat(join(out, "bin/tool"))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(out, "bin/alias"))).toBe("tool");
    expect((await stat(join(out, "empty"))).mode & 0o777).toBe(0o700);
  });

  it("writes device nodes the real cpio lists as such", () => {
    const raw = writeCpio([
      { type: "dir", path: "dev" },
      { type: "chardev", path: "dev/console", major: 5, minor: 1 },
    ]);
    const verbose = execFileSync("cpio", ["-t", "-v", "--quiet"], { input: raw }).toString();
    expect(verbose).toMatch(/^crw-------.*5,\s*1.*dev\/console$/m);
  });
});
