import { execFileSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyError } from "../../sdk/verify/errors.ts";
import { signature, type SignatureOptions } from "../../sdk/verify/signature.ts";
import { makeTestKey, type TestKey, tempDir } from "../helpers/verify-keys.ts";

const LISTS = "/var/lib/apt/lists";
const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
const inReleases = readdirSync(LISTS)
  .filter((f) => f.endsWith("_InRelease"))
  .map((f) => join(LISTS, f));
const BOOKWORM = inReleases.find((f) => f.endsWith("debian_dists_bookworm_InRelease")) ?? inReleases[0]!;

/** Primary fingerprints in a keyring, as gpg itself lists them (independent of gpgv's status lines). */
function keyringFingerprints(keyring: string): string[] {
  const out = execFileSync("gpg", ["--batch", "--with-colons", "--show-keys", keyring], {
    encoding: "utf8",
    env: { ...process.env, GNUPGHOME: tmp.path },
  });
  const fprs: string[] = [];
  let primary = false;
  for (const line of out.split("\n")) {
    if (line.startsWith("pub:")) primary = true;
    else if (line.startsWith("sub:")) primary = false;
    else if (line.startsWith("fpr:") && primary) fprs.push(line.split(":")[9]!);
  }
  return fprs;
}

const failure = async (o: SignatureOptions): Promise<VerifyError> => {
  try {
    await signature(o);
  } catch (e) {
    if (e instanceof VerifyError) return e;
    throw e;
  }
  throw new Error("verification unexpectedly succeeded");
};

let tmp: ReturnType<typeof tempDir>;
let key: TestKey;
let other: TestKey;
let expired: TestKey;
let data: string;
beforeAll(() => {
  tmp = tempDir();
  key = makeTestKey("Qemukit Test");
  other = makeTestKey("Someone Else");
  expired = makeTestKey("Expired Key", { createdAt: "20200101T000000", expire: "1y" });
  data = join(tmp.path, "SHA512SUMS");
  writeFileSync(data, `${"a".repeat(128)}  debian.iso\n`);
});
afterAll(() => {
  for (const k of [key, other, expired]) k?.[Symbol.dispose]();
  tmp?.[Symbol.dispose]();
});

describe("real Debian signatures (apt's InRelease files)", () => {
  it.each(inReleases)("%s verifies against debian-archive-keyring", async (file) => {
    const r = await signature({ signature: file, keyring: DEBIAN_KEYRING });
    expect(r).toMatchObject({ ok: true, kind: "embedded", inKeyring: true });
    const known = keyringFingerprints(DEBIAN_KEYRING);
    expect(known).toContain(r.fingerprint);
    for (const s of r.signatures) expect(known).toContain(s.primaryFingerprint);
  });

  it("one byte changed in the signed text: VERIFY_BAD_SIGNATURE", async () => {
    const copy = join(tmp.path, "InRelease.tampered");
    const text = readFileSync(BOOKWORM, "latin1");
    const at = text.indexOf("Suite:") + 7;
    writeFileSync(
      copy,
      text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ 1) + text.slice(at + 1),
      "latin1",
    );
    const e = await failure({ signature: copy, keyring: DEBIAN_KEYRING });
    expect(e.code).toBe("VERIFY_BAD_SIGNATURE");
    expect(e.message).toMatch(/BAD signature from Debian/);
  });

  it("the wrong keyring: VERIFY_UNKNOWN_KEY, with the signer's fingerprint, not in the keyring", async () => {
    const r = await signature({ signature: BOOKWORM, keyring: key.keyring, reject: false });
    expect(r).toMatchObject({ ok: false, code: "VERIFY_UNKNOWN_KEY", inKeyring: false });
    expect(r.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(r.signatures.every((s) => s.status === "unknown-key")).toBe(true);
  });

  it("a truncated signature: VERIFY_MALFORMED", async () => {
    const copy = join(tmp.path, "InRelease.truncated");
    const text = readFileSync(BOOKWORM, "utf8");
    const sigStart = text.indexOf("-----BEGIN PGP SIGNATURE-----");
    writeFileSync(copy, text.slice(0, sigStart + Math.floor((text.length - sigStart) / 2)));
    expect((await failure({ signature: copy, keyring: DEBIAN_KEYRING })).code).toBe("VERIFY_MALFORMED");
  });

  it("writes only the signed text to output, never what was put around it", async () => {
    const copy = join(tmp.path, "InRelease.wrapped");
    const out = join(tmp.path, "Release");
    writeFileSync(copy, "Suite: evil\n" + readFileSync(BOOKWORM, "utf8"));
    await signature({ signature: copy, keyring: DEBIAN_KEYRING, output: out });
    const verified = readFileSync(out, "utf8");
    expect(verified).toMatch(/^Origin: Debian/);
    expect(verified).not.toContain("Suite: evil");
  });

  it("one good signature suffices unless requireAll; fingerprints restrict the signer", async () => {
    const oneKey = "/usr/share/keyrings/debian-archive-bookworm-stable.gpg";
    const [stable] = keyringFingerprints(oneKey);
    const r = await signature({ signature: BOOKWORM, keyring: oneKey });
    expect(r.ok).toBe(true);
    expect(r.fingerprint).toBe(stable);
    expect(r.signatures.filter((s) => s.status === "unknown-key").length).toBeGreaterThan(0);
    expect((await failure({ signature: BOOKWORM, keyring: oneKey, requireAll: true })).code).toBe("VERIFY_UNKNOWN_KEY");
    expect(
      (await signature({ signature: BOOKWORM, keyring: DEBIAN_KEYRING, fingerprints: [stable!] })).fingerprint,
    ).toBe(stable);
    expect(
      (await failure({ signature: BOOKWORM, keyring: DEBIAN_KEYRING, fingerprints: [key.fingerprint] })).code,
    ).toBe("VERIFY_WRONG_SIGNER");
  });

  // data-safety: an empty fingerprint list
  it("refuses an empty fingerprint list instead of accepting any key", async () => {
    expect((await failure({ signature: BOOKWORM, keyring: DEBIAN_KEYRING, fingerprints: [] })).code).toBe(
      "VERIFY_INVALID_OPTION",
    );
  });
});

describe("signatures over our own files (throwaway keys)", () => {
  it("detached binary and armored signatures, binary and armored keyrings", async () => {
    const sig = join(tmp.path, "SHA512SUMS.sig");
    const asc = join(tmp.path, "SHA512SUMS.asc");
    key.signDetached(data, sig);
    key.signDetached(data, asc, { armor: true });
    for (const [s, ring] of [
      [sig, key.keyring],
      [asc, key.keyring],
      [sig, key.armored],
    ] as const) {
      const r = await signature({ file: data, signature: s, keyring: ring });
      expect(r).toMatchObject({ ok: true, kind: "detached", fingerprint: key.fingerprint, inKeyring: true });
      expect(r.signer).toMatch(/Qemukit Test/);
    }
  });

  it("a signature over different data: VERIFY_BAD_SIGNATURE", async () => {
    const sig = join(tmp.path, "d.sig");
    key.signDetached(data, sig);
    const changed = join(tmp.path, "SHA512SUMS.changed");
    writeFileSync(changed, readFileSync(data, "utf8").replace("a", "b"));
    const e = await failure({ file: changed, signature: sig, keyring: key.keyring });
    expect(e.code).toBe("VERIFY_BAD_SIGNATURE");
    expect(e.details.result).toMatchObject({ fingerprint: key.fingerprint });
  });

  it("a key that is not in the keyring: VERIFY_UNKNOWN_KEY naming the signer's fingerprint", async () => {
    const sig = join(tmp.path, "other.sig");
    other.signDetached(data, sig);
    const r = await signature({ file: data, signature: sig, keyring: key.keyring, reject: false });
    expect(r).toMatchObject({
      ok: false,
      code: "VERIFY_UNKNOWN_KEY",
      fingerprint: other.fingerprint,
      inKeyring: false,
    });
  });

  it("an expired key fails although gpgv itself exits 0: VERIFY_EXPIRED_KEY", async () => {
    const sig = join(tmp.path, "expired.sig");
    expired.signDetached(data, sig);
    const gpgv = execFileSync("gpgv", ["--keyring", expired.keyring, sig, data], {
      env: { ...process.env, GNUPGHOME: tmp.path },
      stdio: ["ignore", "ignore", "ignore"],
    });
    expect(gpgv).toBeNull(); // exit status 0: gpgv alone would have accepted it
    const e = await failure({ file: data, signature: sig, keyring: expired.keyring });
    expect(e.code).toBe("VERIFY_EXPIRED_KEY");
    expect(e.details.result).toMatchObject({ fingerprint: expired.fingerprint });
  });

  it("a revoked key: VERIFY_REVOKED_KEY", async () => {
    using rev = makeTestKey("Revoked Key");
    const sig = join(tmp.path, "revoked.sig");
    rev.signDetached(data, sig);
    rev.revoke();
    expect((await failure({ file: data, signature: sig, keyring: rev.keyring })).code).toBe("VERIFY_REVOKED_KEY");
  });

  it("clear-signed files of our own", async () => {
    const cs = join(tmp.path, "Release.asc");
    key.clearSign(data, cs);
    expect((await signature({ signature: cs, keyring: key.keyring })).fingerprint).toBe(key.fingerprint);
  });

  it("truncated detached signature, or a detached signature without its file: VERIFY_MALFORMED", async () => {
    const sig = join(tmp.path, "t.sig");
    key.signDetached(data, sig);
    const cut = join(tmp.path, "cut.sig");
    writeFileSync(cut, readFileSync(sig).subarray(0, 40));
    expect((await failure({ file: data, signature: cut, keyring: key.keyring })).code).toBe("VERIFY_MALFORMED");
    const lone = join(tmp.path, "lone.bin");
    copyFileSync(sig, lone);
    expect((await failure({ signature: lone, keyring: key.keyring })).code).toBe("VERIFY_MALFORMED");
  });

  it("never consults the user's own GnuPG home", async () => {
    const sig = join(tmp.path, "home.sig");
    key.signDetached(data, sig);
    const saved = process.env.GNUPGHOME;
    process.env.GNUPGHOME = key.home; // holds the signing key: a leak would make this pass
    try {
      expect((await failure({ file: data, signature: sig, keyring: other.keyring })).code).toBe("VERIFY_UNKNOWN_KEY");
    } finally {
      if (saved === undefined) delete process.env.GNUPGHOME;
      else process.env.GNUPGHOME = saved;
    }
  });

  it("missing keyring or files are typed errors", async () => {
    const sig = join(tmp.path, "m.sig");
    key.signDetached(data, sig);
    expect((await failure({ file: data, signature: sig, keyring: join(tmp.path, "nope.gpg") })).code).toBe(
      "VERIFY_KEYRING",
    );
    expect((await failure({ file: join(tmp.path, "nope"), signature: sig, keyring: key.keyring })).code).toBe(
      "VERIFY_MISSING_FILE",
    );
  });
});
