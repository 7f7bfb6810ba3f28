/**
 * A scripted QMP server on a unix socket, used ONLY to inject faults real QEMU will not
 * produce on demand (garbage, unknown ids, disconnects mid-message, silence).
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The greeting line a QEMU 7.2 sends. */
export const FAKE_GREETING =
  '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": ["oob"]}}\r\n';

/** A QMP command as the client sent it. */
export interface FakeCommand {
  execute?: string;
  "exec-oob"?: string;
  arguments?: unknown;
  id?: unknown;
}

/**
 * The reply line QEMU would send for `cmd`: `body` (e.g. `"return": {}`) plus the command's
 * `id`, echoed only when the command had one.
 */
export function replyTo(cmd: FakeCommand, body: string): string {
  return `{${body}${"id" in cmd ? `, "id": ${JSON.stringify(cmd.id)}` : ""}}\r\n`;
}

/** One accepted connection, as seen by the script. */
export interface FakeConnection {
  readonly socket: Socket;
  /** Writes raw text. */
  send(text: string): void;
  /** Resolves with the next command the client sent (parsed). */
  nextCommand(): Promise<FakeCommand>;
  /** Sends the greeting and answers qmp_capabilities. */
  negotiate(): Promise<void>;
}

/** A running fake server. */
export interface FakeQmpServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Starts a server that runs `script` for each connection. */
export async function startFakeQmp(script: (conn: FakeConnection) => Promise<void> | void): Promise<FakeQmpServer> {
  const dir = mkdtempSync(join(tmpdir(), "qk-fakeqmp-"));
  const path = join(dir, "qmp.sock");
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buf = "";
    const lines: string[] = [];
    const waiting: ((l: string) => void)[] = [];
    socket.on("data", (c) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const w = waiting.shift();
        if (w) w(line);
        else lines.push(line);
      }
    });
    const conn: FakeConnection = {
      socket,
      send: (t) => void socket.write(t),
      nextCommand: async () =>
        JSON.parse(lines.length ? lines.shift()! : await new Promise<string>((r) => waiting.push(r))),
      negotiate: async () => {
        conn.send(FAKE_GREETING);
        const cmd = await conn.nextCommand();
        conn.send(replyTo(cmd, '"return": {}'));
      },
    };
    void Promise.resolve(script(conn)).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
