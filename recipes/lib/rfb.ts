/**
 * A VNC (RFB 3.8, RFC 6143) handshake over a plain TCP socket: enough to prove a real VNC
 * server answers and to read what it says about itself.
 * @module
 */
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { createWebSocketStream, WebSocket } from "ws";

/** What the server said during the handshake. */
export interface RfbHandshake {
  /** The server's ProtocolVersion line, e.g. `RFB 003.008`. */
  readonly rfbVersion: string;
  /** Security types offered (1 = None, 2 = VNC authentication, ...). */
  readonly securityTypes: readonly number[];
  /** Framebuffer size and desktop name from ServerInit, when security type None was offered. */
  readonly framebuffer?: { readonly width: number; readonly height: number; readonly name: string };
}

/** Reads exactly `n` bytes from a socket, buffering what arrives early. */
class Reader {
  private buf = Buffer.alloc(0);
  private waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private failed: Error | undefined;

  constructor(socket: Duplex) {
    socket.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.pump();
    });
    const fail = (e: Error) => {
      this.failed = e;
      this.waiting?.reject(e);
      this.waiting = undefined;
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("the VNC server closed the connection")));
  }

  private pump(): void {
    if (this.waiting && this.buf.length >= this.waiting.n) {
      const { n, resolve } = this.waiting;
      this.waiting = undefined;
      const out = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      resolve(out);
    }
  }

  read(n: number): Promise<Buffer> {
    if (this.failed && this.buf.length < n) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting = { n, resolve, reject };
      this.pump();
    });
  }
}

/**
 * Connects to a VNC server, agrees on RFB 3.8, reads the security types and, when the
 * server offers "None", completes ClientInit/ServerInit.
 *
 * @example
 * ```ts
 * const { rfbVersion } = await rfbHandshake("127.0.0.1", 5901); // "RFB 003.008"
 * ```
 */
export async function rfbHandshake(host: string, port: number, timeout = 10_000): Promise<RfbHandshake> {
  return handshake(connect({ host, port }), `${host}:${port}`, timeout);
}

/**
 * The same handshake through a websocket that carries RFB, as a browser's noVNC does
 * (e.g. the VNC websocket of `m.web()`).
 *
 * @example
 * ```ts
 * const { framebuffer } = await rfbHandshakeOverWebsocket(`${web.url.replace(/^http/, "ws")}vnc`);
 * ```
 */
export async function rfbHandshakeOverWebsocket(url: string, timeout = 10_000): Promise<RfbHandshake> {
  const ws = new WebSocket(url, ["binary"]);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`${url} answered HTTP ${res.statusCode}`)));
  });
  return handshake(createWebSocketStream(ws), url, timeout);
}

async function handshake(socket: Duplex, where: string, timeout: number): Promise<RfbHandshake> {
  const timer = setTimeout(
    () => socket.destroy(new Error(`no VNC handshake from ${where} within ${timeout} ms`)),
    timeout,
  );
  try {
    const reader = new Reader(socket);
    const version = (await reader.read(12)).toString("latin1");
    if (!/^RFB \d{3}\.\d{3}\n$/.test(version)) throw new Error(`not a VNC server: greeting ${JSON.stringify(version)}`);
    socket.write("RFB 003.008\n");
    const count = (await reader.read(1))[0]!;
    if (count === 0) {
      const len = (await reader.read(4)).readUInt32BE(0);
      throw new Error(`the VNC server refused the connection: ${(await reader.read(len)).toString("utf8")}`);
    }
    const securityTypes = [...(await reader.read(count))];
    const rfbVersion = version.trim();
    if (!securityTypes.includes(1)) return { rfbVersion, securityTypes };
    socket.write(Buffer.from([1])); // security type None
    const result = (await reader.read(4)).readUInt32BE(0);
    if (result !== 0) throw new Error(`VNC security handshake failed (SecurityResult ${result})`);
    socket.write(Buffer.from([1])); // ClientInit: shared session, do not disconnect other viewers
    const init = await reader.read(24);
    const nameLength = init.readUInt32BE(20);
    const name = (await reader.read(nameLength)).toString("utf8");
    return {
      rfbVersion,
      securityTypes,
      framebuffer: { width: init.readUInt16BE(0), height: init.readUInt16BE(2), name },
    };
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}
