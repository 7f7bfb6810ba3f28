/**
 * The lab's trust exercise end to end: the installer ISO from the guests layer, its SHA512SUMS,
 * the detached signature over SHA512SUMS, and the signing key, plus tampered copies.
 */
import {
  existsSync,
  openSync,
  readFileSync,
  closeSync,
  readSync,
  writeSync,
  copyFileSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { checksums } from "../../sdk/verify/checksums.ts";
import { signature } from "../../sdk/verify/signature.ts";
import { codeOf, tempDir } from "../helpers/verify-keys.ts";

interface Installer {
  iso: string;
  sha512sums: string;
  signature: string;
  publicKey: string;
  fingerprint: string;
}

// Loaded by URL so this file does not depend on the guests layer's types at compile time.
const guestsMod = new URL("../../sdk/guests/mod.ts", import.meta.url);
const haveGuests = existsSync(fileURLToPath(guestsMod));

describe.runIf(haveGuests)("the installer ISO (guests.installer())", () => {
  let inst: Installer;
  beforeAll(async () => {
    const { guests } = await import(guestsMod.href);
    inst = await guests.installer();
  }, 600_000);

  it("SHA512SUMS carries a good signature by the published fingerprint, and the ISO matches it", async () => {
    const sig = await signature({
      file: inst.sha512sums,
      signature: inst.signature,
      keyring: inst.publicKey,
      fingerprints: [inst.fingerprint],
    });
    expect(sig).toMatchObject({ ok: true, fingerprint: inst.fingerprint, inKeyring: true });
    const sums = await checksums(inst.sha512sums, { files: [basename(inst.iso)] });
    expect(sums.results).toMatchObject([{ name: basename(inst.iso), status: "OK", algorithm: "sha512" }]);
  });

  it("an ISO copy with one byte changed fails the checksum", async () => {
    using d = tempDir();
    const iso = join(d.path, basename(inst.iso));
    copyFileSync(inst.iso, iso);
    const fd = openSync(iso, "r+");
    const at = 1024 * 1024 + 7;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0]! ^= 0x01;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
    const report = await checksums(inst.sha512sums, { dir: d.path, files: [basename(inst.iso)], reject: false });
    expect(report.results[0]?.status).toBe("FAILED");
    expect(await codeOf(checksums(inst.sha512sums, { dir: d.path, files: [basename(inst.iso)] }))).toBe(
      "VERIFY_CHECKSUM_MISMATCH",
    );
  });

  it("a tampered SHA512SUMS, a wrong key or a truncated signature fail the signature", async () => {
    using d = tempDir();
    const sums = join(d.path, "SHA512SUMS");
    const text = readFileSync(inst.sha512sums, "utf8");
    writeFileSync(sums, (text[0] === "0" ? "1" : "0") + text.slice(1));
    expect(await codeOf(signature({ file: sums, signature: inst.signature, keyring: inst.publicKey }))).toBe(
      "VERIFY_BAD_SIGNATURE",
    );
    expect(
      await codeOf(
        signature({
          file: inst.sha512sums,
          signature: inst.signature,
          keyring: "/usr/share/keyrings/debian-archive-keyring.gpg",
        }),
      ),
    ).toBe("VERIFY_UNKNOWN_KEY");
    const cut = join(d.path, "SHA512SUMS.sign");
    writeFileSync(cut, readFileSync(inst.signature).subarray(0, 30));
    expect(await codeOf(signature({ file: inst.sha512sums, signature: cut, keyring: inst.publicKey }))).toBe(
      "VERIFY_MALFORMED",
    );
  });
});
