#!/usr/bin/env -S npx tsx
/**
 * Lab: "Display export via VNC" — `kvm ... -vnc :1 --daemonize`, find the VNC port among
 * the listening TCP sockets, connect with a VNC client, and open the web console that
 * shows the same screen in a browser.
 * @module
 */
import { mkdir, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { attach, vm } from "../sdk/mod.ts";
import { $ } from "zx";
import { bootGuest } from "./lib/guest.ts";
import { isMain, runAsScript } from "./lib/main.ts";
import { screenColours } from "./lib/png.ts";
import { freeDisplay } from "./lib/ports.ts";
import { listeningSockets } from "./lib/procnet.ts";
import { Reporter } from "./lib/reporter.ts";
import { Resources } from "./lib/resources.ts";
import { rfbHandshake, rfbHandshakeOverWebsocket } from "./lib/rfb.ts";
import type { Recipe, RecipeMeta, RecipeOptions } from "./lib/types.ts";

/** What vnc observes. */
export interface VncObservations {
  /** VNC display number (`:1` unless that port was taken by another VM). */
  readonly display: number;
  /** TCP port found listening (5900 + display). */
  readonly port: number;
  readonly listenAddress: string;
  /** The process that owns the listening socket: the daemonized QEMU. */
  readonly listeningPid: number;
  /** Every TCP port that QEMU process listens on. */
  readonly qemuListening: readonly { readonly address: string; readonly port: number }[];
  /** ProtocolVersion the server sent in a real RFB handshake. */
  readonly rfbVersion: string;
  readonly securityTypes: readonly number[];
  /** Framebuffer size and desktop name from ServerInit. */
  readonly framebuffer: { readonly width: number; readonly height: number; readonly name: string } | null;
  /** PNG of the guest screen (QMP screendump). */
  readonly screenshot: string;
  /** The same screen as grabbed by a real VNC client (vncsnapshot, JPEG). */
  readonly vncSnapshot: string;
  readonly vncSnapshotBytes: number;
  /** Most common colours of the screenshot. */
  readonly screen: {
    readonly width: number;
    readonly height: number;
    readonly colours: readonly { colour: string; share: number }[];
  };
  /** The daemonized VM outlived its start handle and was stopped from a second handle (attach). */
  readonly reattached: boolean;
  /**
   * The web console (`m.web()`): its address without the token, the page's HTTP status, the
   * status without the token, and the RFB handshake through its VNC websocket (the path a
   * browser's noVNC takes).
   */
  readonly web: {
    readonly address: string;
    readonly pageStatus: number;
    readonly withoutToken: number;
    readonly rfbVersion: string;
    readonly framebuffer: { readonly width: number; readonly height: number; readonly name: string } | null;
  };
  readonly guest: string;
}

export const meta: RecipeMeta = {
  id: "vnc",
  title: "Start a daemonized VM with a VNC display, find its port, connect with VNC clients",
  exercise: "Display export via VNC",
  labCommands: [
    "kvm -m 512 -smp 2 -hda debian-11.qcow2 -vnc :1 --daemonize",
    "ss -ltnp   # the lab's hint: inspect the listening TCP ports",
    "vncviewer :1",
  ],
  heavy: false,
};

/**
 * Runs the exercise; the daemonized VM is stopped at the end (also on failure).
 *
 * @example
 * ```ts
 * const { port, rfbVersion, screenshot } = await run({ outDir: "/tmp/out" });
 * ```
 */
export async function run(options: RecipeOptions = {}): Promise<VncObservations> {
  const r = options.reporter ?? new Reporter();
  await using res = new Resources();
  const outDir = resolve(options.outDir ?? "lab-output");
  await mkdir(outDir, { recursive: true });
  const guest = await r.step(
    "find the guest",
    () => bootGuest(options),
    (g) => g.label,
  );
  const wanted = options.display ?? 1;
  const display = await r.step(
    `check that VNC display :${wanted} (port ${5900 + wanted}) is free`,
    () => freeDisplay(wanted),
    (d) => (d === wanted ? "free" : `taken by someone else: using :${d}`),
  );

  const started = await r.step(
    `start daemonized: -m 512 -smp 2 -vnc :${display} --daemonize`,
    async () => {
      // #region start
      const builder = guest
        .attach(vm().name(`lab-vnc-${process.pid}`).memory(512).smp(2))
        .vnc(display)
        .daemonize();
      const m = await builder.start();
      // #endregion
      return res.vm(m);
    },
    (m) => `QEMU pid ${m.pid} (daemonized)`,
  );
  r.note(started.argv.join(" "));

  const found = await r.step(
    "inspect the listening TCP sockets (/proc/net/tcp + /proc/PID/fd)",
    async () => {
      // #region find-port
      const sockets = await listeningSockets();
      const qemu = sockets.filter((s) => s.pids.includes(started.pid));
      const vncSocket = qemu.find((s) => s.port >= 5900 && s.port < 6000);
      // #endregion
      if (!vncSocket)
        throw new Error(`QEMU (pid ${started.pid}) listens on no port in 5900-5999: ${JSON.stringify(qemu)}`);
      return { vncSocket, qemu };
    },
    ({ vncSocket }) => `${vncSocket.address}:${vncSocket.port} owned by pid ${vncSocket.pids.join(",")}`,
  );
  const port = found.vncSocket.port;

  const hs = await r.step(
    `RFB handshake with 127.0.0.1:${port}`,
    async () => {
      // #region rfb
      const hs = await rfbHandshake("127.0.0.1", port);
      // #endregion
      return hs;
    },
    (h) =>
      `${h.rfbVersion}, security ${h.securityTypes.join(",")}${h.framebuffer ? `, ${h.framebuffer.width}x${h.framebuffer.height} "${h.framebuffer.name}"` : ""}`,
  );

  const jpeg = join(outDir, "vnc-vncsnapshot.jpg");
  await rm(jpeg, { force: true });
  const jpegBytes = await r.step(
    `vncsnapshot 127.0.0.1:${port - 5900} (a real VNC client)`,
    async () => {
      // #region vncsnapshot
      await $({ quiet: true, timeout: 30_000 })`vncsnapshot -quiet 127.0.0.1:${port - 5900} ${jpeg}`;
      // #endregion
      return (await stat(jpeg)).size;
    },
    (n) => `${jpeg} (${n} bytes)`,
  );

  // The lab's VM runs on after the command returns: drop our handle, re-attach by name.
  // #region reattach
  await started.detach();
  const again = res.vm(await attach(started.name));
  // #endregion
  res.release(started);
  r.note(`detached, then re-attached by name: pid ${again.pid}`);
  const png = join(outDir, "vnc-screen.png");
  await r.step(
    "screenshot through the re-attached handle (QMP screendump)",
    () => again.screenshot(png),
    (p) => p,
  );
  const screen = await screenColours(png);
  r.note(
    `screen ${screen.width}x${screen.height}, colours ${screen.colours.map((c) => `${c.colour} ${(c.share * 100).toFixed(1)}%`).join(", ")}`,
  );
  const web = await r.step(
    "the web console: m.web(), the page, and RFB through its VNC websocket",
    async () => {
      // #region web
      const web = await again.web(); // http://127.0.0.1:PORT/TOKEN/, for a browser
      const page = await fetch(web.url);
      const withoutToken = await fetch(new URL("/", web.url));
      const viaWebsocket = await rfbHandshakeOverWebsocket(`${web.url.replace(/^http/, "ws")}vnc`);
      // #endregion
      await Promise.all([page.body?.cancel(), withoutToken.body?.cancel()]);
      return {
        address: new URL("/", web.url).href,
        pageStatus: page.status,
        withoutToken: withoutToken.status,
        rfbVersion: viaWebsocket.rfbVersion,
        framebuffer: viaWebsocket.framebuffer ?? null,
      };
    },
    (w) =>
      `page ${w.pageStatus}, without the token ${w.withoutToken}; ${w.rfbVersion} through the websocket${w.framebuffer ? `, ${w.framebuffer.width}x${w.framebuffer.height}` : ""}`,
  );
  await r.step(
    "shut the daemonized VM down",
    () => again.shutdown({ timeouts: { powerdown: 0 } }),
    (e) => e.reason,
  );

  return {
    display: port - 5900,
    port,
    listenAddress: found.vncSocket.address,
    listeningPid: found.vncSocket.pids[0]!,
    qemuListening: found.qemu.map((s) => ({ address: s.address, port: s.port })),
    rfbVersion: hs.rfbVersion,
    securityTypes: hs.securityTypes,
    framebuffer: hs.framebuffer ?? null,
    screenshot: png,
    vncSnapshot: jpeg,
    vncSnapshotBytes: jpegBytes,
    screen,
    reattached: again.pid === started.pid,
    web,
    guest: guest.label,
  };
}

/** One line for the lab's summary table. */
export function summarize(o: VncObservations): string {
  return `-vnc :${o.display} -> ${o.listenAddress}:${o.port} (pid ${o.listeningPid}); ${o.rfbVersion}; ${o.framebuffer ? `${o.framebuffer.width}x${o.framebuffer.height}` : ""} screenshot + vncsnapshot; re-attached: ${o.reattached}`;
}

export const recipe: Recipe<VncObservations> = { meta, run, summarize };

if (isMain(import.meta)) runAsScript(recipe);
