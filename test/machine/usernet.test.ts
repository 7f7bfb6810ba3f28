import { describe, expect, it } from "vitest";
import { parseUsernet } from "../../sdk/machine/usernet.ts";

// Captured from QEMU 7.2 (`info usernet` over QMP human-monitor-command) with three hostfwd
// rules whose host port was 0.
const CAPTURED =
  "Hub -1 (n0):\r\n  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n" +
  "  TCP[HOST_FORWARD]  13       127.0.0.1 36443       10.0.2.15    22     0     0\r\n" +
  "  TCP[HOST_FORWARD]  11       127.0.0.1 46805       10.0.2.15    80     0     0\r\n" +
  "  UDP[HOST_FORWARD]  12       127.0.0.1 35153       10.0.2.15    53     0     0\r\n";

describe("parseUsernet", () => {
  it("reads the bound host port of each forward", () => {
    expect(parseUsernet(CAPTURED)).toEqual([
      { protocol: "tcp", hostAddress: "127.0.0.1", hostPort: 36443, guestAddress: "10.0.2.15", guestPort: 22 },
      { protocol: "tcp", hostAddress: "127.0.0.1", hostPort: 46805, guestAddress: "10.0.2.15", guestPort: 80 },
      { protocol: "udp", hostAddress: "127.0.0.1", hostPort: 35153, guestAddress: "10.0.2.15", guestPort: 53 },
    ]);
  });

  it("ignores connections and headers, and an empty table is empty", () => {
    expect(parseUsernet("  TCP[ESTABLISHED]  14  10.0.2.15 41000  10.0.2.2  80  0  0\r\n")).toEqual([]);
    expect(parseUsernet("")).toEqual([]);
  });
});
