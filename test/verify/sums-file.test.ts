import { describe, expect, it } from "vitest";
import { algorithmFromFileName } from "../../sdk/verify/algorithms.ts";
import { VerifyError } from "../../sdk/verify/errors.ts";
import { parseSumsFile } from "../../sdk/verify/sums-file.ts";

const h = (c: string, n: number) => c.repeat(n);

describe("algorithmFromFileName", () => {
  it("reads the algorithm from the usual names", () => {
    expect(algorithmFromFileName("/srv/SHA512SUMS")).toBe("sha512");
    expect(algorithmFromFileName("SHA256SUMS")).toBe("sha256");
    expect(algorithmFromFileName("SHA1SUMS")).toBe("sha1");
    expect(algorithmFromFileName("MD5SUMS")).toBe("md5");
    expect(algorithmFromFileName("debian.iso.sha256")).toBe("sha256");
    expect(algorithmFromFileName("sha512sum.txt")).toBe("sha512");
    expect(algorithmFromFileName("checksums.txt")).toBeUndefined();
  });
});

describe("parseSumsFile", () => {
  it("parses text and binary markers", () => {
    const text = `${h("a", 128)}  debian.iso\n${h("B", 128)} *firmware.bin\n`;
    expect(parseSumsFile(text, "SHA512SUMS")).toEqual([
      { algorithm: "sha512", digest: h("a", 128), path: "debian.iso", binary: false, line: 1 },
      { algorithm: "sha512", digest: h("b", 128), path: "firmware.bin", binary: true, line: 2 },
    ]);
  });

  it("takes the algorithm from the digest length when the name says nothing", () => {
    const text = [h("1", 32), h("2", 40), h("3", 64), h("4", 128)].map((d, i) => `${d}  f${i}`).join("\n");
    expect(parseSumsFile(text, "checksums.txt").map((e) => e.algorithm)).toEqual(["md5", "sha1", "sha256", "sha512"]);
  });

  it("reads BSD tag lines, escaped names, names with spaces, CRLF and blank lines", () => {
    const text = `SHA256 (my file.img) = ${h("c", 64)}\r\n\n\\${h("d", 64)}  dir\\\\new\\nline\n${h("e", 64)}   two spaces\n`;
    const e = parseSumsFile(text, "SHA256SUMS");
    expect(e.map((x) => [x.path, x.line])).toEqual([
      ["my file.img", 1],
      ["dir\\new\nline", 3],
      [" two spaces", 4],
    ]);
  });

  it("rejects malformed lines with the line number", () => {
    const bad = (text: string, name = "SHA512SUMS") => {
      try {
        parseSumsFile(text, name);
      } catch (e) {
        expect(e).toBeInstanceOf(VerifyError);
        expect((e as VerifyError).code).toBe("VERIFY_MALFORMED");
        return (e as VerifyError).summary;
      }
      throw new Error("no error");
    };
    expect(bad(`${h("a", 128)}  ok\nthis is not a checksum\n`)).toMatch(/^SHA512SUMS:2: not a checksum line/);
    expect(bad(`${h("a", 64)}  short\n`)).toMatch(
      /SHA512SUMS:1: sha512 digests have 128 hex characters, this one has 64/,
    );
    expect(bad(`${h("a", 30)}  odd\n`, "sums.txt")).toMatch(
      /sums.txt:1: a 30-character digest matches no known algorithm/,
    );
    expect(bad(`${h("g", 128)}  nothex\n`)).toMatch(/not a checksum line/);
    expect(bad(`${h("a", 128)}nospace\n`)).toMatch(/not a checksum line/);
    expect(bad(`SHA256 (x) = ${h("c", 64)}\n`)).toMatch(/sha256 line in a sha512 sums file/);
  });
});
