/**
 * The web console: a small HTTP server on loopback that shows a VM's screen (noVNC) and
 * serial console (xterm.js) in a browser. Both reach the VM through this server: the VNC
 * websocket is bridged to QEMU's VNC TCP port, the serial websocket to the VM's existing
 * console connection (QEMU takes one client per console socket, so it is shared, not
 * reopened). Every request and websocket upgrade must carry the VM's random token as the
 * first path segment; upgrades from a page of another origin are refused.
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect as netConnect, isIPv6, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { inspect } from "node:util";
import { type WebSocket, WebSocketServer } from "ws";
import type { Console } from "../machine/console.ts";
import type { VncInfo } from "../machine/types.ts";
import type { QmpClient } from "../qmp/mod.ts";
import { type Asset, Assets } from "./assets.ts";
import { WebError } from "./errors.ts";
import { APP_JS, indexHtml, STYLE_CSS } from "./page.ts";

/** Options of `m.web()` / {@link startWebConsole}. */
export interface WebOptions {
  /**
   * Address to listen on. Anything but loopback lets other machines reach the page (still
   * only with the token, but over plain HTTP: prefer an SSH tunnel). @default "127.0.0.1"
   */
  readonly host?: string;
  /** TCP port; 0 lets the OS choose a free one. @default 0 */
  readonly port?: number;
  /**
   * The VNC password to set over QMP when the VM's VNC server asks for one (started with
   * `vnc(n, { password: true })`). Only the first 8 characters count (VNC's DES scheme).
   * @default a random one, handed to the page only
   */
  readonly vncPassword?: string;
}

/** What the web console needs of a VM; a `RunningVm` has it all. */
export interface WebConsoleVm {
  readonly name: string;
  readonly qmp: Pick<QmpClient, "execute">;
  readonly vnc: VncInfo | undefined;
  readonly hasConsole: boolean;
  readonly console: Console;
  readonly exited: Promise<unknown>;
}

/** Serial output replayed to a page that connects late, so it shows the current prompt. */
const REPLAY_CHARS = 64 * 1024;
/** VNC frames in flight to one browser before reading from QEMU pauses. */
const MAX_IN_FLIGHT = 64;

const SECURITY_HEADERS: Record<string, string> = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  // xterm.js adds <style> elements for its theme, hence 'unsafe-inline' for styles only.
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; font-src 'self'; frame-ancestors 'none'",
};

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host.startsWith("127.") || host === "::ffff:127.0.0.1";
const isWildcard = (host: string): boolean => host === "" || host === "0.0.0.0" || host === "::";

/**
 * A web console being served. One URL (`url`) opens a page with the screen and the serial
 * console; it stops serving when the VM exits, on `close()`, or when disposed.
 *
 * @example
 * ```ts
 * await using web = await m.web();
 * console.log(web.url); // http://127.0.0.1:PORT/TOKEN/
 * ```
 */
export class WebConsole implements AsyncDisposable {
  /** The page's address, token included: whoever has it gets in. */
  readonly url: string;
  /** The address the server listens on. */
  readonly host: string;
  /** The TCP port the server listens on. */
  readonly port: number;
  /** Resolves once the server has stopped. */
  readonly closed: Promise<void>;
  readonly #server: Server;
  readonly #dropClients: () => void;
  readonly #sockets = new Set<Duplex>();
  #close: Promise<void> | undefined;
  #resolveClosed!: () => void;

  /**
   * @hidden Made by {@link startWebConsole}; `dropClients` ends the open websockets (kept
   * as a callback so that the public declarations name no type of the ws package).
   */
  constructor(server: Server, dropClients: () => void, host: string, port: number, token: string) {
    this.#server = server;
    this.#dropClients = dropClients;
    this.host = host;
    this.port = port;
    const shown = isWildcard(host) ? "127.0.0.1" : host;
    this.url = `http://${isIPv6(shown) ? `[${shown}]` : shown}:${port}/${token}/`;
    this.closed = new Promise((r) => {
      this.#resolveClosed = r;
    });
    server.on("connection", (s: Socket) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  /** True once close() started or the VM exited. */
  get isClosed(): boolean {
    return this.#close !== undefined;
  }

  /**
   * Stops serving: open pages lose their connections (the VM is not touched). Idempotent.
   * @example `await web.close();`
   */
  close(): Promise<void> {
    this.#close ??= new Promise<void>((resolve) => {
      this.#dropClients();
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    }).then(() => this.#resolveClosed());
    return this.#close;
  }

  /** `await using` support: same as close(). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [inspect.custom](): string {
    return `WebConsole ${this.url}${this.isClosed ? " (closed)" : ""}`;
  }
}

/**
 * Serves the web console of `vm` until it exits: noVNC bridged to its VNC server (when it
 * has one) and xterm.js on its serial console (when it has one). When QEMU asks VNC clients
 * for a password, a fresh one is set over QMP (`set_password`) and given to the page only.
 *
 * @example
 * ```ts
 * const web = await startWebConsole(m); // what m.web() does
 * console.log(web.url);
 * ```
 * @throws {WebError} `WEB_VNC_UNPROTECTED` when the VNC port listens beyond loopback
 *   without password auth; `WEB_LISTEN` when the address cannot be bound; `WEB_ASSETS`
 *   when noVNC or xterm.js is not installed.
 */
export async function startWebConsole(vm: WebConsoleVm, options: WebOptions = {}): Promise<WebConsole> {
  const host = options.host ?? "127.0.0.1";
  const assets = new Assets();
  const vnc = vm.vnc ? await vncAccess(vm, vm.vnc, options.vncPassword) : undefined;
  const token = randomBytes(24).toString("base64url");
  const config = JSON.stringify({
    name: vm.name,
    vnc: vnc !== undefined,
    serial: vm.hasConsole,
    ...(vnc?.password ? { password: vnc.password } : {}),
  });

  const wss = new WebSocketServer({
    noServer: true,
    // noVNC asks for "binary" when it asks for anything; the serial page asks for nothing.
    handleProtocols: (offered) => (offered.has("binary") ? "binary" : false),
  });
  const server = createServer((req, res) => {
    void serve(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, "internal error\n");
      else res.destroy();
    });
  });
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = underToken(req.url ?? "", token);
    if (path === undefined) return send(res, 403, "forbidden: this page needs the URL with its token\n");
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(res, 405, "method not allowed\n", { Allow: "GET, HEAD" });
    if (path === null) return send(res, 308, "", { Location: `/${token}/` });
    let asset: Asset | undefined;
    if (path === "" || path === "index.html") asset = text(indexHtml(vm.name), "text/html; charset=utf-8");
    else if (path === "app.js") asset = text(APP_JS, "text/javascript; charset=utf-8");
    else if (path === "style.css") asset = text(STYLE_CSS, "text/css; charset=utf-8");
    else if (path === "config.json") asset = text(config, "application/json");
    else asset = await assets.get(path);
    if (!asset) return send(res, 404, "not found\n");
    res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": asset.type, "Content-Length": asset.body.length });
    res.end(req.method === "HEAD" ? undefined : asset.body);
  };

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = underToken(req.url ?? "", token);
    if (path === undefined || !sameOrigin(req)) return refuse(socket, 403, "Forbidden");
    const accept = (then: (ws: WebSocket) => void) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        wss.emit("connection", ws, req);
        then(ws);
      });
    if (path === "vnc" && vnc) return accept((ws) => bridgeVnc(ws, vnc.host, vnc.port));
    if (path === "serial" && vm.hasConsole) return accept((ws) => bridgeSerial(ws, vm.console));
    refuse(socket, 404, "Not Found");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new WebError("WEB_LISTEN", `the web console cannot listen on ${host}:${options.port ?? 0}: ${e.message}`, {
          cause: e,
          advice:
            e.code === "EADDRINUSE" ? "choose another port, or 0 for a free one" : "use a local address (127.0.0.1)",
        }),
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  const dropClients = () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
  const web = new WebConsole(server, dropClients, host, port, token);
  void vm.exited.then(() => web.close());
  return web;
}

/** Where the bridge connects and the password the page sends, after checking the VM's VNC auth. */
async function vncAccess(
  vm: WebConsoleVm,
  info: VncInfo,
  wanted: string | undefined,
): Promise<{ host: string; port: number; password?: string }> {
  const auth = (await vm.qmp.execute("query-vnc")).auth ?? "none";
  const host = isWildcard(info.host) ? (info.host === "::" ? "::1" : "127.0.0.1") : info.host;
  if (auth === "vnc") {
    // Eight characters: VNC's DES challenge uses no more.
    const password = wanted ?? randomBytes(6).toString("base64url");
    await vm.qmp.execute("set_password", { protocol: "vnc", password });
    return { host, port: info.port, password };
  }
  if (auth === "none" && !isLoopback(info.host)) {
    throw new WebError(
      "WEB_VNC_UNPROTECTED",
      `VM "${vm.name}" shows its screen to anyone who reaches ${info.host || "*"}:${info.port}: its VNC server asks for no password`,
      {
        advice: `start it with vnc(${info.display}, { listen: "${info.host}", password: true }) so that m.web() can set one over QMP, or keep VNC on loopback (the default)`,
        details: { host: info.host, port: info.port },
      },
    );
  }
  return { host, port: info.port };
}

/** Browser bytes to QEMU's VNC port and back; backpressure both ways. */
function bridgeVnc(ws: WebSocket, host: string, port: number): void {
  const tcp = netConnect({ host, port });
  tcp.setNoDelay(true);
  let inFlight = 0;
  tcp.on("data", (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    if (++inFlight >= MAX_IN_FLIGHT) tcp.pause();
    ws.send(chunk, { binary: true }, () => {
      if (--inFlight < MAX_IN_FLIGHT / 4) tcp.resume();
    });
  });
  ws.on("message", (data: Buffer) => {
    if (!tcp.write(data)) {
      ws.pause();
      tcp.once("drain", () => ws.resume());
    }
  });
  const end = () => {
    tcp.destroy();
    if (ws.readyState === ws.OPEN) ws.close(1011, "VNC connection closed");
  };
  tcp.on("close", end);
  tcp.on("error", end);
  ws.on("close", () => tcp.destroy());
  ws.on("error", () => tcp.destroy());
}

/** The shared console: recent output first, then live output; typed text goes to the guest. */
function bridgeSerial(ws: WebSocket, console: Console): void {
  const replay = console.transcript.slice(-REPLAY_CHARS);
  if (replay) ws.send(replay);
  const off = console.onData((text) => {
    if (ws.readyState === ws.OPEN) ws.send(text);
  });
  ws.on("message", (data: Buffer) => {
    console.send(data.toString("utf8")).catch(() => ws.close(1011, "console closed"));
  });
  ws.on("close", off);
  void console.closed.then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1001, "console closed");
  });
}

/**
 * The path after `/TOKEN/` ("" for the page itself); null for `/TOKEN` without its slash;
 * undefined when the token is missing or wrong. The comparison takes the same time for
 * every wrong token of the right length.
 */
function underToken(url: string, token: string): string | null | undefined {
  const path = url.split("?")[0]!;
  const m = /^\/([^/]*)(\/.*)?$/.exec(path);
  if (!m) return undefined;
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined;
  if (m[2] === undefined) return null;
  return m[2].slice(1);
}

/** Browsers always send Origin on websockets; it must be this server's own. Tools send none. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    const u = new URL(origin);
    return (u.protocol === "http:" || u.protocol === "https:") && u.host === String(req.headers.host).toLowerCase();
  } catch {
    return false;
  }
}

function text(body: string, type: string): Asset {
  return { body: Buffer.from(body), type };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...headers });
  res.end(body);
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}
