/**
 * Reading gpgv's machine-readable `--status-fd` lines (pure). The human text on stderr is
 * never parsed: it is localised and changes between versions; the status lines are the
 * documented interface (GnuPG's doc/DETAILS).
 * @module
 */

/** What became of one signature in the input (InRelease files carry several). */
export type SignatureStatus =
  | "good"
  | "bad"
  | "expired-key"
  | "expired-signature"
  | "revoked-key"
  | "unknown-key"
  | "error";

/** One signature as gpgv reported it. */
export interface SignatureInfo {
  readonly status: SignatureStatus;
  /** Long key id of the signing key (16 hex). */
  readonly keyId?: string;
  /** Fingerprint of the key (or subkey) that made the signature. */
  readonly fingerprint?: string;
  /** Fingerprint of the primary key, which is what keyrings and release notes publish. */
  readonly primaryFingerprint?: string;
  /** The key's primary user id, when the key is known. */
  readonly userId?: string;
  /** When the signature was made (ISO time). */
  readonly created?: string;
  /** Whether the signing key was found in the keyring. */
  readonly inKeyring: boolean;
  /** gpg's error code from ERRSIG (9: no public key, 4: unsupported algorithm). */
  readonly errorCode?: number;
}

/** Everything the status lines said. */
export interface GpgStatus {
  readonly signatures: readonly SignatureInfo[];
  /** NODATA/BADARMOR/UNEXPECTED seen: the input was not a (complete) signature. */
  readonly malformed: boolean;
  /** PLAINTEXT seen: the input carried its own signed text (clear-signed or inline). */
  readonly embeddedData: boolean;
  /** The raw status lines, without the `[GNUPG:] ` prefix. */
  readonly lines: readonly string[];
}

interface Mutable {
  status: SignatureStatus;
  keyId?: string;
  fingerprint?: string;
  primaryFingerprint?: string;
  userId?: string;
  created?: string;
  inKeyring: boolean;
  errorCode?: number;
  validsig: boolean;
  considered?: string;
}

const iso = (seconds: string | undefined): string | undefined => {
  if (!seconds || !/^\d+$/.test(seconds)) return undefined; // may also be an ISO string ("20260711T...")
  return new Date(Number(seconds) * 1000).toISOString();
};

/**
 * Parses `[GNUPG:] ...` lines into per-signature results.
 *
 * @example
 * ```ts
 * parseGpgStatus("[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 6ED0E7B82643E131 Debian ...\n").signatures[0].status; // "bad"
 * ```
 */
export function parseGpgStatus(text: string): GpgStatus {
  const lines = text
    .split("\n")
    .filter((l) => l.startsWith("[GNUPG:] "))
    .map((l) => l.slice(9).trimEnd());
  const sigs: Mutable[] = [];
  let current: Mutable | undefined;
  let malformed = false;
  let embeddedData = false;
  const sig = (): Mutable => {
    if (!current) {
      current = { status: "error", inKeyring: false, validsig: false };
      sigs.push(current);
    }
    return current;
  };
  for (const line of lines) {
    const [keyword, ...f] = line.split(" ");
    const rest = (n: number) => f.slice(n).join(" ");
    switch (keyword) {
      case "NEWSIG":
        current = { status: "error", inKeyring: false, validsig: false };
        sigs.push(current);
        break;
      case "GOODSIG":
      case "BADSIG":
      case "EXPSIG":
      case "EXPKEYSIG":
      case "REVKEYSIG": {
        const s = sig();
        s.status = (
          {
            GOODSIG: "good",
            BADSIG: "bad",
            EXPSIG: "expired-signature",
            EXPKEYSIG: "expired-key",
            REVKEYSIG: "revoked-key",
          } as const
        )[keyword];
        s.keyId = f[0];
        s.userId = rest(1) || undefined;
        s.inKeyring = true;
        break;
      }
      case "VALIDSIG": {
        const s = sig();
        s.validsig = true;
        s.fingerprint = f[0];
        s.created = iso(f[2]) ?? s.created;
        s.primaryFingerprint = f[9] ?? f[0];
        break;
      }
      case "ERRSIG": {
        const s = sig();
        s.keyId = f[0];
        s.created = iso(f[4]) ?? s.created;
        s.errorCode = Number(f[5]);
        s.status = s.errorCode === 9 ? "unknown-key" : "error";
        if (f[6] && f[6] !== "-") s.fingerprint = f[6];
        break;
      }
      case "NO_PUBKEY": {
        const s = sig();
        s.status = "unknown-key";
        s.keyId ??= f[0];
        s.inKeyring = false;
        break;
      }
      case "KEY_CONSIDERED":
        // The primary key gpgv looked at for this signature: names the key of a BADSIG too.
        if (current) current.considered = f[0];
        break;
      case "SIG_ID":
        sig().created = iso(f[2]) ?? current?.created;
        break;
      case "NODATA":
      case "BADARMOR":
      case "UNEXPECTED":
        malformed = true;
        break;
      case "PLAINTEXT":
        embeddedData = true;
        break;
    }
  }
  const signatures = sigs.map(({ validsig, considered, ...s }): SignatureInfo => {
    if (!s.primaryFingerprint && considered && s.inKeyring) s.primaryFingerprint = considered;
    // A GOODSIG without VALIDSIG never happens in practice; fail closed if it ever does.
    const status = s.status === "good" && !validsig ? "error" : s.status;
    return Object.fromEntries(
      Object.entries({ ...s, status }).filter(([, v]) => v !== undefined),
    ) as unknown as SignatureInfo;
  });
  return { signatures, malformed, embeddedData, lines };
}
