/**
 * Throwaway OpenPGP keys made with the real gpg (batch mode, a temp GNUPGHOME, no passphrase),
 * for signature tests over our own files: good, expired and foreign keys.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VerifyError } from "../../sdk/verify/errors.ts";

export interface TestKey {
  /** GNUPGHOME holding the secret key. */
  readonly home: string;
  /** Binary keyring with the public key (what gpgv reads). */
  readonly keyring: string;
  /** ASCII-armored public key. */
  readonly armored: string;
  readonly fingerprint: string;
  /** Detached signature of `file` written to `out` (binary, or armored with `armor`). */
  signDetached(file: string, out: string, options?: { armor?: boolean; time?: string }): void;
  /** Revokes the key (with the certificate gpg made at generation) and re-exports the keyrings. */
  revoke(): void;
  /** Clear-signed copy of `file` written to `out`. */
  clearSign(file: string, out: string, options?: { time?: string }): void;
  [Symbol.dispose](): void;
}

/**
 * Makes an ed25519 signing key. `createdAt` (gpg's faked-system-time, e.g. "20200101T000000")
 * with `expire` ("1y") yields a key that has expired by now, without faketime.
 */
export function makeTestKey(name: string, options: { createdAt?: string; expire?: string } = {}): TestKey {
  const home = mkdtempSync(join(tmpdir(), "qemukit-gpgkey-"));
  const gpg = (args: string[], time?: string) =>
    execFileSync("gpg", ["--batch", "--yes", "--quiet", ...(time ? ["--faked-system-time", time] : []), ...args], {
      env: { ...process.env, GNUPGHOME: home },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  gpg(
    [
      "--passphrase",
      "",
      "--quick-gen-key",
      `${name} <${name.toLowerCase().replace(/\W+/g, ".")}@example.invalid>`,
      "ed25519",
      "sign",
      options.expire ?? "never",
    ],
    options.createdAt,
  );
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(["--with-colons", "--list-keys"]))![1]!;
  const keyring = join(home, "public.gpg");
  const armored = join(home, "public.asc");
  gpg(["--output", keyring, "--export", fingerprint]);
  gpg(["--armor", "--output", armored, "--export", fingerprint]);
  const signTime = options.createdAt?.replace(/^(\d{4})0101/, "$10201");
  return {
    home,
    keyring,
    armored,
    fingerprint,
    signDetached(file, out, o = {}) {
      gpg(
        ["--local-user", fingerprint, ...(o.armor ? ["--armor"] : []), "--output", out, "--detach-sign", file],
        o.time ?? signTime,
      );
    },
    revoke() {
      const certPath = join(home, "openpgp-revocs.d", `${fingerprint}.rev`);
      // gpg guards the stored certificate with a leading ':' so it is not imported by accident.
      writeFileSync(certPath, readFileSync(certPath, "utf8").replace(/^:-----BEGIN/m, "-----BEGIN"));
      gpg(["--import", certPath]);
      gpg(["--output", keyring, "--export", fingerprint]);
      gpg(["--armor", "--output", armored, "--export", fingerprint]);
    },
    clearSign(file, out, o = {}) {
      gpg(["--local-user", fingerprint, "--output", out, "--clearsign", file], o.time ?? signTime);
    },
    [Symbol.dispose]: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** A temp dir removed on dispose. */
export function tempDir(prefix = "qemukit-verify-"): { readonly path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

/** The VerifyError code a promise rejects with, or "no error" when it resolves. */
export const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof VerifyError) return e.code;
    throw e;
  }
  return "no error";
};
