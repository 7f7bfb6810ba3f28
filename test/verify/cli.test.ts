import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/verify-keys.ts";

const INRELEASE = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease";
const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

describe("qemukit verify", () => {
  it("checksums: prints per-file results like sha512sum -c and exits 1 on a mismatch", () => {
    using d = tempDir();
    writeFileSync(join(d.path, "a"), "one\n");
    writeFileSync(join(d.path, "b"), "two\n");
    writeFileSync(join(d.path, "SHA512SUMS"), execFileSync("sha512sum", ["a", "b"], { cwd: d.path }));
    const ok = runCli(["verify", "checksums", join(d.path, "SHA512SUMS")]);
    expect(ok).toMatchObject({ status: 0, stdout: "a: OK\nb: OK\n" });
    writeFileSync(join(d.path, "b"), "twO\n");
    const bad = runCli(["verify", "checksums", join(d.path, "SHA512SUMS"), "--json"]);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).results.map((r: { status: string }) => r.status)).toEqual(["OK", "FAILED"]);
    const usage = runCli(["verify", "checksums"]);
    expect(usage.status).toBe(2);
  });

  it("signature: GOOD for apt's InRelease, FAILED with the code for a wrong keyring", () => {
    const good = runCli(["verify", "signature", "--sig", INRELEASE, "--keyring", KEYRING]);
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/^GOOD: good signature from Debian/);
    expect(good.stdout).toMatch(/key: [0-9A-F]{40} \(in the keyring\)/);
    const wrong = runCli([
      "verify",
      "signature",
      "--sig",
      INRELEASE,
      "--keyring",
      "/usr/share/keyrings/debian-archive-removed-keys.gpg",
      "--json",
    ]);
    expect(wrong.status).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, code: "VERIFY_UNKNOWN_KEY", inKeyring: false });
  });
});
