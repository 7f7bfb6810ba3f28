import { describe, expect, it } from "vitest";
import { JsonFramer, type Frame } from "../../sdk/qmp/framer.ts";

function collect() {
  const frames: Frame[] = [];
  const garbage: string[] = [];
  const framer = new JsonFramer(
    (f) => frames.push(f),
    (g) => garbage.push(g.garbage),
  );
  return { frames, garbage, framer };
}

describe("JsonFramer", () => {
  it("splits CRLF-terminated lines, including several per chunk", () => {
    const { frames, framer } = collect();
    framer.push(
      Buffer.from('{"return": {}, "id": 1}\r\n{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n'),
    );
    expect(frames.map((f) => JSON.parse(f.text))).toEqual([
      { return: {}, id: 1 },
      { event: "STOP", timestamp: { seconds: 1, microseconds: 2 } },
    ]);
  });

  it("handles pretty-printed messages split at every byte, with braces inside strings", () => {
    const msg = { return: { text: 'a } { " \\ ]', nested: [{ x: 1 }, { y: [2, 3] }], uni: "é漢" }, id: 7 };
    const bytes = Buffer.from(JSON.stringify(msg, null, 4).replace(/\n/g, "\r\n") + "\r\n");
    const { frames, framer } = collect();
    for (let i = 0; i < bytes.length; i++) framer.push(bytes.subarray(i, i + 1));
    expect(frames).toHaveLength(1);
    expect(JSON.parse(frames[0]!.text)).toEqual(msg);
  });

  it("flags messages that may contain integers beyond 2^53", () => {
    const { frames, framer } = collect();
    framer.push(Buffer.from('{"a": 123}\n{"a": 18446744073709551615}\n{"a": "1234567890123456789"}\n'));
    expect(frames.map((f) => f.mayHaveBigInts)).toEqual([false, true, false]);
  });

  it("reports garbage lines outside objects and keeps going", () => {
    const { frames, garbage, framer } = collect();
    framer.push(Buffer.from('hello } {world\r\n{"return": 1, "id": 1}\r\n'));
    expect(garbage).toEqual(["hello } {world"]);
    expect(frames.map((f) => JSON.parse(f.text))).toEqual([{ return: 1, id: 1 }]);
  });

  // A framer that rescanned its whole buffer per chunk would need ~10^10 byte visits here and
  // hit the test timeout; the speed itself is measured in bench/, not asserted.
  it("reassembles a 40 MB message from 64 KiB chunks", () => {
    const payload = "x".repeat(1000);
    const items = Array.from({ length: 40_000 }, (_, i) => ({ i, payload }));
    const bytes = Buffer.from(JSON.stringify({ return: items, id: 1 }) + "\r\n");
    expect(bytes.length).toBeGreaterThan(40e6);
    const { frames, framer } = collect();
    for (let i = 0; i < bytes.length; i += 65536) framer.push(bytes.subarray(i, i + 65536));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.text.length).toBe(bytes.length - 2);
  });
});
