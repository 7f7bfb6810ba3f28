import { describe, expect, it } from "vitest";
import { formatSize, ImageError, maxVirtualSize, parseImageSize } from "../../sdk/img/mod.ts";
import { parseJsonLossless, stringifyLossless } from "../../sdk/img/json.ts";

describe("parseImageSize", () => {
  it("parses bytes and binary units exactly", () => {
    expect(parseImageSize(4096)).toBe(4096n);
    expect(parseImageSize(5n)).toBe(5n);
    expect(parseImageSize("2G")).toBe(2n * 1024n ** 3n);
    expect(parseImageSize("512M")).toBe(512n * 1024n ** 2n);
    expect(parseImageSize("1.5T")).toBe(1649267441664n);
    expect(parseImageSize("10GiB")).toBe(10n * 1024n ** 3n);
    expect(parseImageSize(" 64 k ")).toBe(65536n);
    expect(parseImageSize("8E")).toBe(8n * 1024n ** 6n);
    expect(parseImageSize("9223372036854775807")).toBe(9223372036854775807n);
  });
  it.each(["", "abc", "12Q", "1.1k", "-1G", "0", "0G", 0, -5, 1.5, Number.MAX_SAFE_INTEGER + 2])(
    "rejects %j with SIZE_INVALID",
    (s) => {
      let err: unknown;
      try {
        parseImageSize(s as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImageError);
      expect((err as ImageError).code).toBe("SIZE_INVALID");
      expect((err as ImageError).advice).toMatch(/512M/);
    },
  );
});

describe("formatSize", () => {
  it("prints like qemu-img (three significant digits, binary units)", () => {
    expect(formatSize(0n)).toBe("0 B");
    expect(formatSize(200704n)).toBe("196 KiB");
    expect(formatSize(67108864n)).toBe("64 MiB");
    expect(formatSize(1610612736n)).toBe("1.5 GiB");
  });
});

describe("format limits", () => {
  it("qcow2 grows with the cluster size; others are fixed", () => {
    expect(maxVirtualSize("qcow2")).toBe(2n ** 51n);
    expect(maxVirtualSize("qcow2", 2 * 1024 * 1024)).toBe(2n ** 61n);
    expect(maxVirtualSize("vhdx")).toBe(64n * 1024n ** 4n);
    expect(maxVirtualSize("vdi")).toBe(0x1fffff8000000n);
  });
});

describe("lossless JSON", () => {
  it("keeps integers above 2^53 exact and the rest like JSON.parse", () => {
    const text = '{"a": 18446744073709551615, "b": [1, -2.5e3, "x\\"y", true, null, {}], "c": 9007199254740993}';
    const v = parseJsonLossless(text) as Record<string, unknown>;
    expect(v.a).toBe(18446744073709551615n);
    expect(v.c).toBe(9007199254740993n);
    expect(v.b).toEqual([1, -2500, 'x"y', true, null, {}]);
    expect(JSON.parse(stringifyLossless(v, 0).replace(/\d{16,}/g, '"$&"'))).toEqual({
      a: "18446744073709551615", b: [1, -2500, 'x"y', true, null, {}], c: "9007199254740993",
    });
    expect(stringifyLossless({ n: 2n ** 64n }, 0)).toBe('{"n":18446744073709551616}');
  });
  it("rejects malformed input", () => {
    expect(() => parseJsonLossless('{"a": }')).toThrow(SyntaxError);
    expect(() => parseJsonLossless("[1] x")).toThrow(SyntaxError);
  });
});
