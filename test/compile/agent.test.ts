// The guest agent channel: compiled argv, socket path, id clashes, and QEMU's own schema.
import { describe, expect, it } from "vitest";
import { SpecError } from "../../sdk/errors/errors.ts";
import { overlay, vm } from "../../sdk/spec/mod.ts";
import { deviceTypesOf, fetchQemuSchema, validateArgv } from "../helpers/spec-qemu-schema.ts";

const ctx = { runDir: "/run/qk/vm1", accel: ["tcg"] as const, cwd: "/w" };
const AGENT_ARGS = [
  "-chardev",
  "socket,id=qga,path=/run/qk/vm1/qga.sock,server=on,wait=off",
  "-device",
  "virtio-serial-pci,id=qga0",
  "-device",
  "virtserialport,bus=qga0.0,chardev=qga,name=org.qemu.guest_agent.0",
];

describe("agent(): the guest agent channel", () => {
  it("is off by default: no socket, no virtio-serial device", () => {
    const c = vm().disk(overlay("d.qcow2")).compile(ctx);
    expect(c.agentSocket).toBeUndefined();
    expect(c.argv.join(" ")).not.toMatch(/qga|virtserialport|virtio-serial/);
    expect(vm().agent().agent(false).compile(ctx).agentSocket).toBeUndefined();
  });

  it("adds a server socket in the run directory behind a port named org.qemu.guest_agent.0", () => {
    const b = vm().disk(overlay("d.qcow2")).agent();
    expect(b.spec.agent).toBe(true);
    const c = b.compile(ctx);
    expect(c.agentSocket).toBe("/run/qk/vm1/qga.sock");
    const i = c.argv.indexOf(
      "-chardev",
      c.argv.indexOf("socket,id=console,path=/run/qk/vm1/console.sock,server=on,wait=off") + 1,
    );
    expect(c.argv.slice(i, i + AGENT_ARGS.length)).toEqual(AGENT_ARGS);
    // escaped like every other path
    expect(vm().agent().compile({ runDir: "/r,un" }).argv).toContain(
      "socket,id=qga,path=/r,,un/qga.sock,server=on,wait=off",
    );
  });

  it("raw arguments may not take the id qga while the agent is on", () => {
    expect(() => vm().agent().args("-chardev", "socket,id=qga,path=/x").compile(ctx)).toThrow(SpecError);
    expect(() => vm().agent().args("-chardev", "socket,id=qga,path=/x").compile(ctx)).toThrow(/agent\(false\)/);
    expect(() => vm().args("-chardev", "socket,id=qga,path=/x").compile(ctx)).not.toThrow();
  });

  it("rejects a run directory too long for the agent socket", () => {
    expect(() =>
      vm()
        .qmp(false)
        .serial("none")
        .agent()
        .compile({ runDir: "/" + "a".repeat(98) }),
    ).toThrow(/qga\.sock/);
  });

  it("its -chardev/-device options are valid for the installed QEMU", async () => {
    const argv = vm()
      .agent()
      .toArgv({ runDir: "/tmp/qk-schema", accel: ["tcg"] });
    const schema = await fetchQemuSchema(deviceTypesOf([argv]));
    expect(validateArgv(schema, argv)).toEqual([]);
    const bad = [
      ...argv,
      "-device",
      "virtserialport,bus=qga0.0,chardev=nope,name=x",
      "-device",
      "virtio-serial-pci,id=s,max_ports=many",
    ];
    const errors = validateArgv(schema, bad);
    expect(errors.some((e) => e.includes("chardev=nope"))).toBe(true);
    expect(errors.some((e) => e.includes("max_ports=many"))).toBe(true);
  }, 60_000);
});
