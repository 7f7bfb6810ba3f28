import { describe, expect, it } from "vitest";
import { parseMemoryMiB, parseSize } from "../../sdk/spec/mod.ts";

describe("parseSize", () => {
  it.each([
    ["512", 512],
    [4096, 4096],
    ["1K", 1024],
    ["512M", 512 * 2 ** 20],
    ["2G", 2 * 2 ** 30],
    ["1.5G", 1.5 * 2 ** 30],
    ["10GiB", 10 * 2 ** 30],
    ["3 MB", 3 * 2 ** 20],
    ["1t", 2 ** 40],
    ["0", 0],
    ["1P", 2 ** 50],
    ["7b", 7],
  ] as const)("%j -> %d bytes", (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each(["", "abc", "12Q", "1.5.5G", "G", "-1G", "0.5"])("rejects %j with SPEC_SIZE", (input) => {
    expect(() => parseSize(input)).toThrow(expect.objectContaining({ code: "SPEC_SIZE" }));
  });

  it("rejects negative numbers, NaN and sizes beyond 2^53", () => {
    for (const bad of [-1, Number.NaN, Infinity, 0.5])
      expect(() => parseSize(bad)).toThrow(expect.objectContaining({ code: "SPEC_SIZE" }));
    expect(() => parseSize("16E")).toThrow(/too large/);
  });

  it("names the unknown unit and lists the valid ones", () => {
    expect(() => parseSize("12Q")).toThrow(/unknown size unit "Q".*\n.*K, M, G, T/);
  });
});

describe("parseMemoryMiB", () => {
  it("plain numbers and digit strings are MiB, like qemu -m", () => {
    expect(parseMemoryMiB(512)).toBe(512);
    expect(parseMemoryMiB("512")).toBe(512);
    expect(parseMemoryMiB("512M")).toBe(512);
    expect(parseMemoryMiB("2G")).toBe(2048);
    expect(parseMemoryMiB("1.5G")).toBe(1536);
  });

  it.each([0, -512, "0", "-1G", "0M", 0.5, "1000K", 2 ** 40, "17T"])("rejects %j with SPEC_MEMORY", (m) => {
    expect(() => parseMemoryMiB(m)).toThrow(expect.objectContaining({ code: "SPEC_MEMORY" }));
  });

  it("unknown units are SPEC_SIZE", () => {
    expect(() => parseMemoryMiB("512X")).toThrow(expect.objectContaining({ code: "SPEC_SIZE" }));
  });
});
