import { execFileSync } from "node:child_process";
import { closeSync, openSync, writeFileSync, writeSync, readFileSync, ftruncateSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checksums } from "../../sdk/verify/checksums.ts";
import { hashFile } from "../../sdk/verify/hash.ts";
import { codeOf, tempDir } from "../helpers/verify-keys.ts";

/** Writes files and a sums file made by coreutils (an independent implementation). */
function fixture(dir: string, tool = "sha512sum", sumsName = "SHA512SUMS", binary = false) {
  writeFileSync(join(dir, "a.txt"), "hello\n");
  writeFileSync(join(dir, "b.bin"), Buffer.from([0, 1, 2, 255]));
  writeFileSync(join(dir, "empty"), "");
  const sums = execFileSync(tool, [...(binary ? ["-b"] : []), "a.txt", "b.bin", "empty"], {
    cwd: dir,
    encoding: "utf8",
  });
  writeFileSync(join(dir, sumsName), sums);
  return join(dir, sumsName);
}

describe("verify.checksums", () => {
  for (const [tool, name] of [
    ["sha512sum", "SHA512SUMS"],
    ["sha256sum", "SHA256SUMS"],
    ["sha1sum", "SHA1SUMS"],
    ["md5sum", "MD5SUMS"],
  ]) {
    it(`accepts what ${tool} wrote (${name})`, async () => {
      using d = tempDir();
      const report = await checksums(fixture(d.path, tool, name));
      expect(report.ok).toBe(true);
      expect(report.results.map((r) => [r.name, r.status])).toEqual([
        ["a.txt", "OK"],
        ["b.bin", "OK"],
        ["empty", "OK"],
      ]);
    });
  }

  it("accepts binary-marker lines (sha256sum -b) in a file without an algorithm in its name", async () => {
    using d = tempDir();
    const report = await checksums(fixture(d.path, "sha256sum", "checksums.txt", true));
    expect(report.ok).toBe(true);
    expect(readFileSync(report.sumsFile, "utf8")).toContain(" *a.txt");
  });

  it("fails a file with one byte changed: FAILED, VERIFY_CHECKSUM_MISMATCH", async () => {
    using d = tempDir();
    const sums = fixture(d.path);
    writeFileSync(join(d.path, "a.txt"), "hellp\n");
    expect(await codeOf(checksums(sums))).toBe("VERIFY_CHECKSUM_MISMATCH");
    const report = await checksums(sums, { reject: false });
    expect(report.ok).toBe(false);
    expect(report.results[0]).toMatchObject({ name: "a.txt", status: "FAILED" });
    expect(report.results[0]!.actual).toBe(
      execFileSync("sha512sum", ["a.txt"], { cwd: d.path, encoding: "utf8" }).split(" ")[0],
    );
    expect(report.counts).toEqual({ ok: 2, failed: 1, missing: 0 });
  });

  it("reports missing files, and ignoreMissing checks only those present", async () => {
    using d = tempDir();
    const sums = fixture(d.path);
    execFileSync("rm", [join(d.path, "b.bin")]);
    expect(await codeOf(checksums(sums))).toBe("VERIFY_MISSING_FILE");
    const report = await checksums(sums, { ignoreMissing: true });
    expect(report.ok).toBe(true);
    expect(report.results.find((r) => r.name === "b.bin")?.status).toBe("MISSING");
  });

  // data-safety: a wanted file that is missing
  it("ignoreMissing never says ok when a file asked for by name is missing", async () => {
    using d = tempDir();
    const sums = fixture(d.path);
    execFileSync("rm", [join(d.path, "b.bin")]);
    expect(await codeOf(checksums(sums, { ignoreMissing: true, files: ["a.txt", "b.bin"] }))).toBe(
      "VERIFY_MISSING_FILE",
    );
    const report = await checksums(sums, { ignoreMissing: true, files: ["a.txt", "b.bin"], reject: false });
    expect(report.ok).toBe(false);
    expect(report.counts).toEqual({ ok: 1, failed: 0, missing: 1 });
    expect((await checksums(sums, { ignoreMissing: true, files: ["a.txt"] })).ok).toBe(true);
  });

  // data-safety: names outside the sums file's directory
  it("refuses names outside the directory (../, absolute) unless allowOutside", async () => {
    using d = tempDir();
    using outer = tempDir();
    const secret = join(outer.path, "secret");
    writeFileSync(secret, "private\n");
    const digest = execFileSync("sha256sum", [secret], { encoding: "utf8" }).split(" ")[0]!;
    const sub = join(d.path, "sub");
    execFileSync("mkdir", [sub]);
    writeFileSync(join(sub, "a.txt"), "hello\n");
    const inside = execFileSync("sha256sum", ["a.txt"], { cwd: sub, encoding: "utf8" });
    const rel = `../../${outer.path.split("/").pop()}/secret`;
    const sums = join(sub, "SHA256SUMS");
    for (const line of [`${digest}  ${rel}`, `${digest}  ${secret}`, `${digest}  a/../../x`]) {
      writeFileSync(sums, inside + line + "\n");
      let seen = 0;
      expect(await codeOf(checksums(sums, { onResult: () => seen++ }))).toBe("VERIFY_OUTSIDE_DIR");
      expect(seen).toBe(0); // refused before hashing anything
    }
    writeFileSync(sums, inside + `${digest}  ${secret}\n`);
    const ok = await checksums(sums, { allowOutside: true });
    expect(ok.results.map((r) => r.status)).toEqual(["OK", "OK"]);
    // A name that goes down and back up but stays inside is fine.
    writeFileSync(sums, inside.replace("a.txt", "x/../a.txt"));
    expect((await checksums(sums)).ok).toBe(true);
  });

  it("fails when nothing at all was verified, even with ignoreMissing", async () => {
    using d = tempDir();
    using other = tempDir();
    const sums = fixture(d.path);
    expect(await codeOf(checksums(sums, { ignoreMissing: true, dir: other.path }))).toBe("VERIFY_NOTHING_VERIFIED");
  });

  it("looks for the files in dir, and checks only the named files", async () => {
    using d = tempDir();
    using sumsDir = tempDir();
    const sums = fixture(d.path);
    const moved = join(sumsDir.path, "SHA512SUMS");
    writeFileSync(moved, readFileSync(sums));
    expect((await checksums(moved, { dir: d.path })).ok).toBe(true);
    const only = await checksums(moved, { dir: d.path, files: ["b.bin"] });
    expect(only.results.map((r) => r.name)).toEqual(["b.bin"]);
    expect(await codeOf(checksums(moved, { dir: d.path, files: ["nope.iso"] }))).toBe("VERIFY_NOTHING_VERIFIED");
  });

  it("rejects a malformed sums file with the line number", async () => {
    using d = tempDir();
    const sums = fixture(d.path);
    writeFileSync(sums, readFileSync(sums, "utf8") + "garbage line\n");
    await expect(checksums(sums)).rejects.toThrow(/SHA512SUMS:4: not a checksum line/);
  });

  it("hashes a large file by streaming, with flat memory, matching sha512sum", async () => {
    using d = tempDir();
    const big = join(d.path, "big.img");
    const fd = openSync(big, "w");
    ftruncateSync(fd, 256 * 1024 * 1024); // sparse: costs no disk
    writeSync(fd, "end", 256 * 1024 * 1024 - 3);
    closeSync(fd);
    const before = process.memoryUsage();
    let peak = 0;
    const timer = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.arrayBuffers + m.heapUsed - before.arrayBuffers - before.heapUsed);
    }, 5);
    const digest = await hashFile(big, "sha512");
    clearInterval(timer);
    expect(peak).toBeLessThan(64 * 1024 * 1024);
    expect(digest).toBe(execFileSync("sha512sum", [big], { encoding: "utf8" }).split(" ")[0]);
  });
});
