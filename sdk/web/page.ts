/**
 * The web console's own page: one HTML document with the VM's screen (noVNC) beside its
 * serial console (xterm.js), a stylesheet and the module that wires both to the server's
 * websockets. Served from memory; every URL in them is relative, so they work under the
 * token prefix without knowing it.
 * @module
 */

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page for VM `name`.
 *
 * @example
 * ```ts
 * res.end(indexHtml("web-1"));
 * ```
 */
export function indexHtml(name: string): string {
  const n = escapeHtml(name);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${n} · qemukit</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="xterm/css/xterm.css">
<link rel="stylesheet" href="style.css">
</head>
<body>
<header><strong>qemukit</strong> · VM <span id="vm-name">${n}</span></header>
<main>
<section id="screen-pane" hidden>
<h2>Screen <span class="status" id="screen-status">connecting</span></h2>
<div id="screen"></div>
</section>
<section id="serial-pane" hidden>
<h2>Serial console <span class="status" id="serial-status">connecting</span></h2>
<div id="terminal"></div>
</section>
<p id="nothing" hidden>This VM has neither a VNC display nor a serial console to show.</p>
</main>
<script type="module" src="app.js"></script>
</body>
</html>
`;
}

/** The page's stylesheet. */
export const STYLE_CSS = `body { margin: 0; font: 14px system-ui, sans-serif; background: #1e1e1e; color: #ddd; }
header { padding: 8px 14px; background: #2d2d2d; border-bottom: 1px solid #444; }
main { display: flex; flex-wrap: wrap; gap: 14px; padding: 14px; align-items: flex-start; }
section { background: #252526; border: 1px solid #444; padding: 8px; }
section[hidden], p[hidden] { display: none; }
h2 { font-size: 13px; font-weight: 600; margin: 0 0 8px; }
.status { font-weight: 400; color: #9a9a9a; margin-left: 6px; }
.status.ok { color: #6fbf73; }
.status.bad { color: #e06c60; }
#screen { display: inline-block; background: #000; line-height: 0; }
#terminal { width: 820px; }
`;

/**
 * The page's module. `window.qemukit` exposes the connection states, the noVNC RFB object
 * and the xterm.js Terminal, for scripts that drive the page (the tests do).
 */
export const APP_JS = `import RFB from "./novnc/core/rfb.js";
import { Terminal } from "./xterm/lib/xterm.mjs";

const qemukit = { screen: "connecting", serial: "connecting" };
window.qemukit = qemukit;
const socketUrl = (path) => {
  const u = new URL(path, location.href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
};
const show = (which, state, ok) => {
  qemukit[which] = state;
  const el = document.getElementById(which + "-status");
  el.textContent = state;
  el.className = "status " + (ok === undefined ? "" : ok ? "ok" : "bad");
};

const config = await (await fetch("config.json", { cache: "no-store" })).json();
qemukit.config = config;
if (!config.vnc && !config.serial) document.getElementById("nothing").hidden = false;

if (config.vnc) {
  document.getElementById("screen-pane").hidden = false;
  const options = config.password ? { credentials: { password: config.password } } : {};
  const rfb = new RFB(document.getElementById("screen"), socketUrl("vnc"), options);
  rfb.scaleViewport = false;
  rfb.resizeSession = false;
  rfb.focusOnClick = true;
  rfb.addEventListener("connect", () => show("screen", "connected", true));
  rfb.addEventListener("disconnect", (e) => show("screen", e.detail.clean ? "disconnected" : "connection lost", false));
  rfb.addEventListener("securityfailure", (e) => show("screen", "refused: " + (e.detail.reason || e.detail.status), false));
  rfb.addEventListener("credentialsrequired", () => {
    if (config.password) rfb.sendCredentials({ password: config.password });
    else show("screen", "the VNC server wants a password qemukit did not set", false);
  });
  qemukit.rfb = rfb;
}

if (config.serial) {
  document.getElementById("serial-pane").hidden = false;
  const term = new Terminal({ cols: 100, rows: 30, scrollback: 5000, fontSize: 13 });
  term.open(document.getElementById("terminal"));
  const ws = new WebSocket(socketUrl("serial"));
  ws.onopen = () => show("serial", "connected", true);
  ws.onmessage = (e) => term.write(e.data);
  ws.onclose = () => show("serial", "disconnected", false);
  term.onData((data) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(data);
  });
  qemukit.term = term;
}
`;
