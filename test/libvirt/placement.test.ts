// Fleet placement from node facts: most memory left first, then fewest running domains.
import { describe, expect, it } from "vitest";
import { LibvirtError, placeVms } from "../../sdk/libvirt/mod.ts";

const node = (uri: string, freeMiB: number, running = 0, id = uri) => ({ uri, node: id, freeMiB, running, cpus: 2 });

describe("placeVms", () => {
  it("fills the host with the most free memory until the other has more", () => {
    expect(placeVms([node("a", 1000), node("b", 3000)], 5, 512)).toEqual([1, 1, 1, 1, 0]);
  });

  it("on equal memory, the host running fewer domains first, then alternating", () => {
    expect(placeVms([node("a", 4096, 3), node("b", 4096, 1)], 4, 256)).toEqual([1, 0, 1, 0]);
    expect(placeVms([node("a", 4096), node("b", 4096)], 3, 256)).toEqual([0, 1, 0]);
  });

  it("two connections to one node share its memory and take turns", () => {
    // The free memory each connection reports differs by a moment's noise; it is one node.
    expect(placeVms([node("local", 4000, 0, "n1"), node("ssh", 4900, 0, "n1")], 4, 256)).toEqual([0, 1, 0, 1]);
    expect(() => placeVms([node("local", 600, 0, "n1"), node("ssh", 600, 0, "n1")], 3, 256)).toThrow("no host has");
    expect(placeVms([node("a", 3000, 0, "n1"), node("b", 3000, 0, "n1"), node("c", 2000)], 3, 1024)).toEqual([0, 2, 1]);
  });

  it("skips hosts that cannot hold the VM, and refuses when none can", () => {
    expect(placeVms([node("a", 200), node("b", 600)], 1, 512)).toEqual([1]);
    let err: unknown;
    try {
      placeVms([node("a", 1000), node("b", 600)], 3, 512);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LibvirtError);
    expect(err).toMatchObject({ code: "LIBVIRT_NO_ROOM", details: { placed: [0, 1] } });
    expect((err as LibvirtError).advice).toMatch(/add hosts/);
  });
});
