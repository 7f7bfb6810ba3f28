import { describe, expect, it } from "vitest";
import { parseCpuinfo } from "../../sdk/host/cpuinfo.ts";

describe("parseCpuinfo", () => {
  it("finds vmx, svm, or neither, and the hypervisor flag", () => {
    expect(parseCpuinfo("vendor_id\t: GenuineIntel\nflags\t\t: fpu vmx sse\n").virtFlag).toBe("vmx");
    expect(parseCpuinfo("vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm sse\n").virtFlag).toBe("svm");
    const pvm = parseCpuinfo("vendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nflags\t\t: fpu hypervisor\n");
    expect(pvm).toEqual({
      vendor: "AuthenticAMD",
      modelName: "AMD EPYC",
      virtFlag: undefined,
      underHypervisor: true,
      readable: true,
    });
  });

  it("matches whole flags only (svm_lock is not svm)", () => {
    expect(parseCpuinfo("flags\t\t: fpu svm_lock avic\n").virtFlag).toBeUndefined();
  });

  it("reports an unreadable cpuinfo", () => {
    expect(parseCpuinfo("").readable).toBe(false);
  });
});
