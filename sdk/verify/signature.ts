/**
 * `verify.signature()`: OpenPGP signature verification with gpgv against a keyring file the
 * caller names. gpgv runs with an empty temporary GNUPGHOME, so the user's own keys and
 * trust settings never take part; no key server is ever asked.
 * @module
 */
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { exec } from "../util/exec.ts";
import { VerifyError, type VerifyErrorCode } from "./errors.ts";
import { parseGpgStatus, type SignatureInfo } from "./gpg-status.ts";

/** Options for {@link signature}. */
export interface SignatureOptions {
  /** The signed data, for a detached signature. Omit for clear-signed files (InRelease). */
  readonly file?: string;
  /** The signature: a detached `.sig`/`.asc`/`.gpg`, or a clear-signed file. */
  readonly signature: string;
  /** Keyring file with the trusted public keys (binary or ASCII-armored). */
  readonly keyring: string;
  /** Accept only signatures by these primary (or signing-subkey) fingerprints. An empty list is an error (VERIFY_INVALID_OPTION). */
  readonly fingerprints?: readonly string[];
  /** Every signature in the input must be good, not just one. @default false */
  readonly requireAll?: boolean;
  /** For clear-signed input: write the verified text (only what the signature covers) here. */
  readonly output?: string;
  /** Return the result instead of throwing when verification fails. @default true */
  readonly reject?: boolean;
}

/** The outcome of {@link signature}. */
export interface SignatureResult {
  readonly ok: boolean;
  /** Why it failed, or a one-line success summary. */
  readonly reason: string;
  /** Failure code (absent when ok). */
  readonly code?: VerifyErrorCode;
  /** Primary fingerprint of the (first) key that made a good signature, else of the first signature seen. */
  readonly fingerprint?: string;
  /** User id of that key, when known. */
  readonly signer?: string;
  /** Whether that key is in the keyring. */
  readonly inKeyring: boolean;
  /** `detached` when a data file was given, else `embedded` (clear-signed or inline-signed). */
  readonly kind: "detached" | "embedded";
  /** Every signature found (InRelease files usually carry several). */
  readonly signatures: readonly SignatureInfo[];
  /** gpgv's status lines, for the record. */
  readonly status: readonly string[];
}

const PRIORITY: readonly [SignatureInfo["status"], VerifyErrorCode, string][] = [
  ["expired-key", "VERIFY_EXPIRED_KEY", "the signing key has expired"],
  ["revoked-key", "VERIFY_REVOKED_KEY", "the signing key has been revoked"],
  ["expired-signature", "VERIFY_EXPIRED_SIGNATURE", "the signature has expired"],
  ["unknown-key", "VERIFY_UNKNOWN_KEY", "the signing key is not in the keyring"],
];

async function mustExist(path: string, what: string, code: VerifyErrorCode): Promise<void> {
  const ok = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!ok) throw new VerifyError(code, `${what} ${path} does not exist or is not a file`, { advice: "check the path" });
}

/** gpgv reads binary keyrings only; armored key files are converted into the temp dir first. */
async function usableKeyring(keyring: string, home: string): Promise<string> {
  const fh = await open(keyring, "r");
  const head = Buffer.alloc(64);
  try {
    await fh.read(head, 0, 64, 0);
  } finally {
    await fh.close();
  }
  if (!head.toString("latin1").includes("-----BEGIN PGP")) return keyring;
  const dearmored = join(home, "keyring.gpg");
  await exec(["gpg", "--batch", "--yes", "--dearmor", "--output", dearmored, keyring], {
    env: { GNUPGHOME: home },
    debianPackage: "gnupg",
  }).catch((e) => {
    throw new VerifyError("VERIFY_KEYRING", `${keyring} is armored and could not be converted for gpgv`, {
      cause: e,
      advice: "pass a binary keyring (gpg --export KEYID > keyring.gpg) or a valid armored public key block",
    });
  });
  return dearmored;
}

/**
 * Verifies an OpenPGP signature with gpgv against `keyring`. Fails closed: a bad signature,
 * a signature over other data, an unknown, expired or revoked key, a truncated or malformed
 * signature all fail with a precise {@link VerifyError} code.
 *
 * With several signatures (InRelease), one good signature suffices as for apt, unless
 * `requireAll`; a BAD signature anywhere always fails.
 *
 * @example
 * ```ts
 * const r = await verify.signature({
 *   signature: "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
 *   keyring: "/usr/share/keyrings/debian-archive-keyring.gpg",
 * });
 * r.fingerprint; // "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"
 * ```
 */
export async function signature(options: SignatureOptions): Promise<SignatureResult> {
  if (options.fingerprints !== undefined && options.fingerprints.length === 0) {
    // An empty list reads as "no restriction" in code that filters by it: refuse it outright.
    throw new VerifyError("VERIFY_INVALID_OPTION", "fingerprints is an empty list: no signer could be accepted", {
      advice: "list the fingerprints you expect, or leave the option out to accept any key in the keyring",
    });
  }
  const sigPath = resolve(options.signature);
  const keyring = resolve(options.keyring);
  await mustExist(keyring, "keyring", "VERIFY_KEYRING");
  await mustExist(sigPath, "signature", "VERIFY_MISSING_FILE");
  if (options.file !== undefined) await mustExist(resolve(options.file), "signed file", "VERIFY_MISSING_FILE");
  const home = await mkdtemp(join(tmpdir(), "qemukit-gpgv-"));
  try {
    const ring = await usableKeyring(keyring, home);
    const out = join(home, "verified.out");
    const argv = ["gpgv", "--status-fd", "1", "--keyring", ring];
    if (options.output && options.file === undefined) argv.push("--output", out);
    argv.push(sigPath);
    if (options.file !== undefined) argv.push(resolve(options.file));
    const run = await exec(argv, {
      reject: false,
      env: { GNUPGHOME: home, LC_ALL: "C" },
      debianPackage: "gpgv",
      timeout: 120_000,
    });
    const parsed = parseGpgStatus(run.stdout);
    const result = judge(parsed, run.exitCode, options, run.stderr);
    if (result.ok && options.output && options.file === undefined) {
      // Only the covered text is handed on: what precedes or follows the signed block is not trusted.
      await writeFile(options.output, await readFile(out));
    }
    if (!result.ok && options.reject !== false) {
      throw new VerifyError(result.code!, `${options.signature}: ${result.reason}`, {
        advice: advice(result.code!),
        details: { result, stderr: run.stderr },
      });
    }
    return result;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function advice(code: VerifyErrorCode): string {
  switch (code) {
    case "VERIFY_BAD_SIGNATURE":
      return "the data or the signature was altered (or they do not belong together): do not use the file; download both again";
    case "VERIFY_UNKNOWN_KEY":
      return "get the publisher's key from a trusted source into a keyring file and pass it as keyring (no key servers are asked)";
    case "VERIFY_EXPIRED_KEY":
      return "get the publisher's current key (expiry extended or a new key) and check the data is still current";
    case "VERIFY_REVOKED_KEY":
      return "the publisher revoked this key: treat the data as untrusted";
    case "VERIFY_MALFORMED":
      return "the signature is truncated or not an OpenPGP signature; for a detached signature pass the signed file too";
    case "VERIFY_WRONG_SIGNER":
      return "the signature is valid but by a key you did not expect: check the fingerprint list";
    default:
      return "run gpgv by hand on the same files to see its full message";
  }
}

/**
 * The decision, from gpgv's status lines and exit status only (pure).
 *
 * @example
 * ```ts
 * judge(parseGpgStatus(statusText), 0, { file: "SHA512SUMS" }).ok;
 * ```
 */
export function judge(
  parsed: ReturnType<typeof parseGpgStatus>,
  exitCode: number | null,
  options: Pick<SignatureOptions, "file" | "fingerprints" | "requireAll">,
  stderr = "",
): SignatureResult {
  const sigs = parsed.signatures;
  const kind = options.file === undefined ? "embedded" : "detached";
  const base = { kind, signatures: sigs, status: parsed.lines } as const;
  const fail = (code: VerifyErrorCode, reason: string, s?: SignatureInfo): SignatureResult => ({
    ok: false,
    code,
    reason,
    ...((s?.primaryFingerprint ?? s?.fingerprint) ? { fingerprint: s.primaryFingerprint ?? s.fingerprint } : {}),
    ...(s?.userId ? { signer: s.userId } : {}),
    inKeyring: s?.inKeyring ?? false,
    ...base,
  });
  if (sigs.length === 0) {
    const gpgvSaid = stderr
      .split("\n")
      .map((l) => l.replace(/^gpgv: /, "").trim())
      .filter(Boolean)[0];
    return fail(
      parsed.malformed || exitCode !== 0 ? "VERIFY_MALFORMED" : "VERIFY_SIGNATURE_ERROR",
      `no OpenPGP signature could be read (truncated or not a signature${kind === "embedded" ? ", or a detached signature given without its file" : ""})${gpgvSaid ? `: ${gpgvSaid}` : ""}`,
    );
  }
  const bad = sigs.find((s) => s.status === "bad");
  if (bad) {
    return fail(
      "VERIFY_BAD_SIGNATURE",
      `BAD signature from ${bad.userId ?? bad.keyId}: the signed data does not match the signature`,
      bad,
    );
  }
  if (parsed.malformed) {
    // gpgv still reports the signatures it could read before the damage; a partly
    // unreadable signature block is not a verified one.
    return fail(
      "VERIFY_MALFORMED",
      "the signature data is truncated or damaged (gpgv found unreadable OpenPGP data)",
      sigs[0],
    );
  }
  let good = sigs.filter((s) => s.status === "good");
  if (good.length > 0 && options.fingerprints?.length) {
    const want = new Set(options.fingerprints.map((f) => f.replace(/\s+/g, "").toUpperCase()));
    const matching = good.filter((s) => want.has(s.primaryFingerprint ?? "") || want.has(s.fingerprint ?? ""));
    if (matching.length === 0) {
      return fail(
        "VERIFY_WRONG_SIGNER",
        `good signature by ${good[0]!.primaryFingerprint}, which is not one of the expected fingerprints`,
        good[0],
      );
    }
    good = matching;
  }
  const notGood = sigs.filter((s) => s.status !== "good");
  if (good.length > 0 && notGood.length === 0 && exitCode !== 0) {
    return fail(
      "VERIFY_SIGNATURE_ERROR",
      `gpgv exited with ${exitCode ?? "a signal"} although every signature it reported was good`,
      good[0],
    );
  }
  if (good.length > 0 && !(options.requireAll && notGood.length > 0)) {
    const g = good[0]!;
    return {
      ok: true,
      reason: `good signature from ${g.userId ?? g.keyId}${sigs.length > 1 ? ` (${good.length} of ${sigs.length} signatures good)` : ""}`,
      ...(g.primaryFingerprint ? { fingerprint: g.primaryFingerprint } : {}),
      ...(g.userId ? { signer: g.userId } : {}),
      inKeyring: true,
      ...base,
    };
  }
  for (const [status, code, why] of PRIORITY) {
    const s = notGood.find((x) => x.status === status);
    if (s) {
      const who = s.userId ?? s.primaryFingerprint ?? s.fingerprint ?? s.keyId;
      return fail(code, `${why} (${who})`, s);
    }
  }
  const e = notGood[0]!;
  return fail(
    "VERIFY_SIGNATURE_ERROR",
    `gpgv could not check the signature by ${e.keyId ?? "an unknown key"} (gpg error ${e.errorCode ?? "?"})`,
    e,
  );
}
