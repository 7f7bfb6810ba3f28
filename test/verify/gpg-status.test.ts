import { describe, expect, it } from "vitest";
import { parseGpgStatus } from "../../sdk/verify/gpg-status.ts";
import { judge } from "../../sdk/verify/signature.ts";

// Status lines as gpgv 2.2 printed them on this machine (see signature.test.ts for the live runs).
const GOOD = `[GNUPG:] NEWSIG
[GNUPG:] KEY_CONSIDERED B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8 0
[GNUPG:] SIG_ID AgpdPZ7z8h3tPdbJ5G8ASdhxELQ 2026-07-11 1783765031
[GNUPG:] GOODSIG 6ED0E7B82643E131 Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>
[GNUPG:] VALIDSIG 4CB50190207B4758A3F73A796ED0E7B82643E131 2026-07-11 1783765031 0 4 0 1 8 01 B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8
`;
const NOKEY = `[GNUPG:] NEWSIG
[GNUPG:] ERRSIG CB9E623568EF9DBF 22 8 00 1580515201 9 9FD3356A54A1CC20B4A00346CB9E623568EF9DBF
[GNUPG:] NO_PUBKEY CB9E623568EF9DBF
`;

describe("parseGpgStatus", () => {
  it("reads a good signature: signing subkey, primary fingerprint, user id, time", () => {
    const [s] = parseGpgStatus(GOOD).signatures;
    expect(s).toEqual({
      status: "good",
      keyId: "6ED0E7B82643E131",
      fingerprint: "4CB50190207B4758A3F73A796ED0E7B82643E131",
      primaryFingerprint: "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8",
      userId: "Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>",
      created: "2026-07-11T10:17:11.000Z",
      inKeyring: true,
    });
  });

  it("reads an unknown key with its issuer fingerprint", () => {
    expect(parseGpgStatus(NOKEY).signatures[0]).toMatchObject({
      status: "unknown-key",
      keyId: "CB9E623568EF9DBF",
      fingerprint: "9FD3356A54A1CC20B4A00346CB9E623568EF9DBF",
      inKeyring: false,
      errorCode: 9,
    });
  });

  it("a GOODSIG without VALIDSIG is not trusted", () => {
    const s = parseGpgStatus("[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 6ED0E7B82643E131 x\n").signatures[0];
    expect(s?.status).toBe("error");
  });
});

describe("judge", () => {
  const opts = { file: undefined };
  it("one good and one unknown signature: ok; BAD anywhere: fails", () => {
    expect(judge(parseGpgStatus(GOOD + NOKEY), 2, opts).ok).toBe(true);
    const bad = "[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 78DBA3BC47EF2265 Someone\n";
    expect(judge(parseGpgStatus(GOOD + bad), 1, opts).code).toBe("VERIFY_BAD_SIGNATURE");
  });

  it("a good signature next to damaged data, or with a failing exit status, fails closed", () => {
    expect(judge(parseGpgStatus("[GNUPG:] NODATA 3\n" + GOOD), 2, opts).code).toBe("VERIFY_MALFORMED");
    expect(judge(parseGpgStatus(GOOD), 2, opts).code).toBe("VERIFY_SIGNATURE_ERROR");
  });

  it("no status at all is malformed", () => {
    expect(judge(parseGpgStatus(""), 2, opts, "gpgv: no valid OpenPGP data found.\n").reason).toMatch(
      /no valid OpenPGP data found/,
    );
  });
});
