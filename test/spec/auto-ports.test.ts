import { describe, expect, it } from "vitest";
import { vm } from "../../sdk/spec/mod.ts";
import { validateSpec } from "../../sdk/spec/validate.ts";

describe("automatic ports in the spec", () => {
  it('vnc("auto") asks QEMU for the first free display from 0 to 99', () => {
    const b = vm().vnc("auto");
    expect(b.spec.vnc).toEqual({ display: 0, to: 99, listen: "127.0.0.1", websocket: false, password: false });
    expect(b.toArgv()).toContain("127.0.0.1:0,to=99");
    expect(vm().vnc("auto", { websocket: true }).toArgv()).toContain("127.0.0.1:0,to=99,websocket=on");
    expect(vm().vnc(1).toArgv()).toContain("127.0.0.1:1");
  });

  it('forward("auto", port) is hostfwd port 0, one per forward, never a duplicate', () => {
    const b = vm().forward("auto", 22).forward("auto", 22).forward("auto", 53, { protocol: "udp" });
    const netdev = b.toArgv()[b.toArgv().indexOf("-netdev") + 1];
    expect(netdev).toBe(
      "user,id=net0,hostfwd=tcp:127.0.0.1:0-:22,hostfwd=tcp:127.0.0.1:0-:22,hostfwd=udp:127.0.0.1:0-:53",
    );
  });

  it('a number is still checked: 0 must be spelled "auto", and an empty display range is refused', () => {
    expect(() => vm().forward(0, 22)).toThrow(expect.objectContaining({ code: "SPEC_PORT" }));
    expect(() => vm().forward(2222, 22).forward(2222, 23)).toThrow(expect.objectContaining({ code: "SPEC_CONFLICT" }));
    const spec = vm().vnc("auto").spec;
    expect(() => validateSpec({ ...spec, vnc: { ...spec.vnc!, display: 5, to: 4 } })).toThrow(
      expect.objectContaining({ code: "SPEC_VNC_DISPLAY" }),
    );
    expect(() => validateSpec(spec)).not.toThrow();
  });
});
