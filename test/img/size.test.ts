import { describe, expect, it } from "vitest";
import { formatSize, ImageError, maxVirtualSize, parseImageSize } from "../../sdk/img/mod.ts";

describe("parseImageSize", () => {
  it("parses bytes and binary units exactly", () => {
    expect(parseImageSize(4096)).toBe(4096);
    expect(parseImageSize(5n)).toBe(5);
    expect(parseImageSize("2G")).toBe(2 * 1024 ** 3);
    expect(parseImageSize("512M")).toBe(512 * 1024 ** 2);
    expect(parseImageSize("1.5T")).toBe(1649267441664);
    expect(parseImageSize("10GiB")).toBe(10 * 1024 ** 3);
    expect(parseImageSize(" 64 k ")).toBe(65536);
    expect(parseImageSize("8191T")).toBe(8191 * 1024 ** 4);
    expect(parseImageSize(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });
  it.each([
    "",
    "abc",
    "12Q",
    "1.1k",
    "-1G",
    "0",
    "0G",
    0,
    -5,
    1.5,
    Number.MAX_SAFE_INTEGER + 2,
    "8P",
    "8E",
    "9223372036854775807",
  ])("rejects %j with SIZE_INVALID", (s) => {
    let err: unknown;
    try {
      parseImageSize(s as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).code).toBe("SIZE_INVALID");
    expect((err as ImageError).advice).toMatch(/512M|up to 8P/);
  });
  it("says why a size above 8 PiB is refused", () => {
    expect(() => parseImageSize("8P")).toThrow(
      'invalid size "8P": above 2^53 - 1 bytes (8 PiB), the largest size qemukit handles',
    );
    expect(() => parseImageSize(2n ** 53n)).toThrow("invalid size 9007199254740992: above 2^53 - 1 bytes (8 PiB)");
    expect(() => parseImageSize("8E")).toThrow(
      expect.objectContaining({ advice: expect.stringContaining("pick a size up to 8P") }),
    );
  });
});

describe("formatSize", () => {
  it("prints like qemu-img (three significant digits, binary units)", () => {
    expect(formatSize(0)).toBe("0 B");
    expect(formatSize(200704)).toBe("196 KiB");
    expect(formatSize(67108864)).toBe("64 MiB");
    expect(formatSize(1610612736)).toBe("1.5 GiB");
  });
});

describe("format limits", () => {
  it("qcow2 grows with the cluster size; others are fixed", () => {
    expect(maxVirtualSize("qcow2")).toBe(2 ** 51);
    // 2^61 with 2 MiB clusters: capped at qemukit's own limit
    expect(maxVirtualSize("qcow2", 2 * 1024 * 1024)).toBe(Number.MAX_SAFE_INTEGER);
    expect(maxVirtualSize("qcow2", 128 * 1024)).toBe(2 ** 53 - 1);
    expect(maxVirtualSize("qcow2", 32 * 1024)).toBe(2 ** 49);
    expect(maxVirtualSize("raw")).toBe(Number.MAX_SAFE_INTEGER);
    expect(maxVirtualSize("vhdx")).toBe(64 * 1024 ** 4);
    expect(maxVirtualSize("vdi")).toBe(0x1fffff8000000);
  });
});
