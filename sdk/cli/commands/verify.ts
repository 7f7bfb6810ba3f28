/**
 * `qemukit verify checksums|signature`: download verification from the command line.
 * @module
 */
import { checksums } from "../../verify/checksums.ts";
import { signature } from "../../verify/signature.ts";
import { parseFlags } from "../args.ts";
import { type CliCommand, UsageError } from "../command.ts";

const checksumsCommand: CliCommand = {
  name: "checksums",
  summary: "check files against a SHA512SUMS/SHA256SUMS/SHA1SUMS/MD5SUMS file",
  help: [
    "usage: qemukit verify checksums SUMSFILE [--ignore-missing] [--dir D] [--file NAME]... [--allow-outside] [--json]",
    "",
    "Checks every file listed in SUMSFILE (streaming digests), like 'sha512sum -c'.",
    "",
    "options:",
    "  --ignore-missing  skip listed files that are not present",
    "  --dir D           directory the listed names are relative to (default: SUMSFILE's directory)",
    "  --file NAME       check only this listed name (repeatable); it must be present",
    "  --allow-outside   accept listed names outside the directory (absolute, ../)",
    "  --json            print the report as JSON",
    "",
    "exit status: 0 when every checked file is OK, 1 otherwise.",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        "ignore-missing": { type: "boolean" },
        dir: { type: "string" },
        file: { type: "string", multiple: true },
        "allow-outside": { type: "boolean" },
        json: { type: "boolean" },
      },
      1,
    );
    const sums = positionals[0];
    if (!sums) throw new UsageError("missing SUMSFILE");
    const report = await checksums(sums, {
      ignoreMissing: Boolean(values["ignore-missing"]),
      reject: false,
      ...(values.dir ? { dir: values.dir } : {}),
      ...(values.file ? { files: values.file } : {}),
      ...(values["allow-outside"] ? { allowOutside: true } : {}),
    });
    if (values.json) {
      io.stdout.write(JSON.stringify(report, null, 2) + "\n");
    } else {
      for (const r of report.results) {
        if (r.status === "MISSING" && values["ignore-missing"] && !values.file) continue;
        io.stdout.write(`${r.name}: ${r.status}\n`);
      }
      const { ok, failed, missing } = report.counts;
      if (!report.ok) {
        const why = failed
          ? `${failed} computed checksum(s) did NOT match`
          : ok === 0
            ? "no file was verified"
            : `${missing} listed file(s) missing`;
        io.stderr.write(`qemukit: WARNING: ${why}\n`);
      }
    }
    return report.ok ? 0 : 1;
  },
};

const signatureCommand: CliCommand = {
  name: "signature",
  summary: "verify a detached or clear-signed OpenPGP signature with gpgv against a keyring file",
  help: [
    "usage: qemukit verify signature [FILE] --sig SIG --keyring KEYRING [--fingerprint FPR]... [--json]",
    "",
    "Verifies SIG (detached over FILE, or clear-signed when FILE is omitted) with gpgv, using only",
    "the keys in KEYRING: never your own keyring or trust database, never a key server.",
    "",
    "options:",
    "  --sig SIG          the signature (.sig/.asc/.gpg) or the clear-signed file (InRelease)",
    "  --keyring KEYRING  keyring file with the trusted public keys (binary or armored)",
    "  --fingerprint FPR  accept only signatures by this key (repeatable)",
    "  --require-all      every signature in SIG must be good (default: one good, none bad)",
    "  --json             print the result as JSON",
    "",
    "exit status: 0 when the signature is good, 1 otherwise (the reason is printed).",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        sig: { type: "string" },
        keyring: { type: "string" },
        fingerprint: { type: "string", multiple: true },
        "require-all": { type: "boolean" },
        json: { type: "boolean" },
      },
      1,
    );
    if (!values.sig) throw new UsageError("missing --sig SIG");
    if (!values.keyring) throw new UsageError("missing --keyring KEYRING");
    const result = await signature({
      signature: values.sig,
      keyring: values.keyring,
      reject: false,
      requireAll: Boolean(values["require-all"]),
      ...(positionals[0] ? { file: positionals[0] } : {}),
      ...(values.fingerprint ? { fingerprints: values.fingerprint } : {}),
    });
    if (values.json) {
      io.stdout.write(JSON.stringify(result, null, 2) + "\n");
    } else {
      const out = result.ok ? io.stdout : io.stderr;
      out.write(`${result.ok ? "GOOD" : `FAILED [${result.code}]`}: ${result.reason}\n`);
      if (result.fingerprint)
        out.write(`  key: ${result.fingerprint} (${result.inKeyring ? "in" : "NOT in"} the keyring)\n`);
      for (const s of result.signatures) {
        out.write(
          `  signature: ${s.status.padEnd(17)} ${s.primaryFingerprint ?? s.fingerprint ?? s.keyId ?? "?"} ${s.userId ?? ""}\n`,
        );
      }
    }
    return result.ok ? 0 : 1;
  },
};

/** `qemukit verify`: checksum and signature verification. */
export const command: CliCommand = {
  name: "verify",
  summary: "verify SHA*SUMS files and OpenPGP signatures",
  help: "usage: qemukit verify <subcommand>\n\nVerifies downloads: checksums (SHA*SUMS files) and OpenPGP signatures (gpgv).",
  subcommands: [checksumsCommand, signatureCommand],
};
