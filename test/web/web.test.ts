import { readFile, writeFile, mkdir } from "node:fs/promises";
import { request } from "node:http";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rfbHandshake } from "../../recipes/lib/rfb.ts";
import { guests, type RunningVm, vm } from "../../sdk/mod.ts";
import type { TinyGuest } from "../../sdk/guests/mod.ts";
import { unixSocketClients } from "../../sdk/machine/holders.ts";
import type { WebConsole } from "../../sdk/web/mod.ts";
import { until } from "../helpers/until.ts";
import {
  blackLike,
  decodePng,
  launchChromium,
  meanDifference,
  terminalLines,
  typeOnKeyboard,
} from "../helpers/web-browser.ts";

/**
 * The web console in a real browser: the system's Chromium loads the page m.web() serves,
 * noVNC shows the tiny guest's VGA screen and sends keys to it, xterm.js runs a command on
 * its serial console, and the token and Origin checks hold. One browser for the file.
 *
 * QEMUKIT_DOCS_SCREENSHOT=1 also writes docs/img/web-console.png (the page with both consoles).
 */
const SLOW = 180_000;
const DOCS_IMG = join(import.meta.dirname, "../../docs/img/web-console.png");

let browser: Browser;
let t: TinyGuest;

beforeAll(async () => {
  [browser, t] = await Promise.all([launchChromium(), guests.tiny()]);
}, SLOW);
afterAll(async () => {
  await browser?.close();
});

/** Upgrade request by hand: the status QEMU's bridge answers, or 101 when it accepts. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...headers,
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

/** GET with the path sent exactly as written. */
function getStatus(url: string): Promise<number> {
  const u = new URL(url);
  const path = url.slice(url.indexOf("/", "http://".length));
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

async function bootTiny(name: string, vnc: Parameters<ReturnType<typeof vm>["vnc"]>[1] = {}): Promise<RunningVm> {
  const m = await vm()
    .name(`${name}-${process.pid}`)
    .memory(t.memoryMiB)
    .kernel(t.kernel, { initrd: t.initrd, append: t.append })
    .vnc("auto", vnc)
    .start();
  await m.console.waitFor(t.prompt, { timeout: 120_000 });
  // A second shell on the VGA console (tty1), so that the screen shows a prompt and keys typed there run.
  await m.console.run("(setsid sh -c 'exec bash -l </dev/tty1 >/dev/tty1 2>&1' &)");
  return m;
}

/** Opens the page and waits until both consoles are connected. */
async function openPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1680, height: 760 } });
  await page.goto(url);
  await page.waitForFunction(
    () => {
      const q = (globalThis as unknown as { qemukit?: { screen: string; serial: string } }).qemukit;
      return q?.screen === "connected" && q.serial === "connected";
    },
    null,
    { timeout: 60_000 },
  );
  return page;
}

/** Polls until the page's canvas matches QMP screendump; returns the last difference and the dump. */
async function screenMatches(page: Page, m: RunningVm, bound: number) {
  const dumpFile = join(tmpdir(), `qemukit-web-${process.pid}-${m.name}.png`);
  let last = { diff: Number.POSITIVE_INFINITY, blank: 0 };
  await until(
    async () => {
      const canvas = decodePng(await page.locator("#screen canvas").screenshot());
      const dump = decodePng(await readFile(await m.screenshot(dumpFile)));
      last = { diff: meanDifference(canvas, dump), blank: meanDifference(blackLike(dump), dump) };
      return last.diff < bound;
    },
    60_000,
    `the page's canvas to match QMP screendump within ${bound}`,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}; last difference ${last.diff}`);
  });
  return last;
}

interface BrowserSocket {
  onopen: (() => void) | null;
  onclose: (() => void) | null;
}

describe("web console (tiny guest, VNC on loopback)", () => {
  let m: RunningVm;
  let web: WebConsole;
  let page: Page;

  beforeAll(async () => {
    m = await bootTiny("web");
    web = await m.web();
    page = await openPage(web.url);
  }, SLOW);
  afterAll(async () => {
    await page?.close();
    await m?.shutdown({ timeouts: { powerdown: 0 } });
  }, SLOW);

  it("serves one URL on loopback with a long random token; a second call returns the same server", async () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\/$/);
    expect(web.host).toBe("127.0.0.1");
    expect(await m.web()).toBe(web);
  });

  it("answers 403 to requests and upgrades without the right token", async () => {
    const base = `http://127.0.0.1:${web.port}`;
    const token = new URL(web.url).pathname.split("/")[1]!;
    const wrong = token.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    expect((await fetch(web.url)).status).toBe(200);
    expect((await fetch(`${web.url}app.js`)).status).toBe(200);
    for (const path of [
      "/",
      "/index.html",
      "/app.js",
      "/config.json",
      "/novnc/core/rfb.js",
      `/${wrong}/`,
      `/${wrong}/config.json`,
    ]) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(403);
      expect(await res.text()).not.toContain("password");
    }
    expect(await upgradeStatus(`${base}/vnc`)).toBe(403);
    expect(await upgradeStatus(`${base}/${wrong}/serial`)).toBe(403);
    expect(await upgradeStatus(`${web.url}vnc`)).toBe(101);
    // Nothing outside the two packages' browser files: no way up the tree (raw paths: fetch would normalise "..").
    for (const path of [
      "novnc/package.json",
      "novnc/../../package.json",
      "novnc/core/%2e%2e/%2e%2e/package.json",
      "xterm/package.json",
      "xterm/lib/../package.json",
    ]) {
      expect(await getStatus(web.url + path), path).toBe(404);
    }
  });

  it("refuses websocket upgrades from a foreign Origin, also from a real page of another origin", async () => {
    const own = `http://127.0.0.1:${web.port}`;
    expect(await upgradeStatus(`${web.url}serial`, { Origin: "http://evil.example" })).toBe(403);
    expect(await upgradeStatus(`${web.url}vnc`, { Origin: `http://127.0.0.1:${web.port + 1}` })).toBe(403);
    expect(await upgradeStatus(`${web.url}vnc`, { Origin: own })).toBe(101);

    // A page served from another port knows the URL but is another origin: the browser sends its Origin.
    const evil: Server = createServer((_req, res) => res.end("<!doctype html><title>other</title>"));
    await new Promise<void>((r) => evil.listen(0, "127.0.0.1", () => r()));
    const other = await browser.newPage();
    try {
      await other.goto(`http://127.0.0.1:${(evil.address() as { port: number }).port}/`);
      const outcome = await other.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const Ws = (globalThis as unknown as { WebSocket: new (u: string) => BrowserSocket }).WebSocket;
            const ws = new Ws(url);
            ws.onopen = () => resolve("open");
            ws.onclose = () => resolve("closed");
          }),
        `${web.url.replace("http:", "ws:")}serial`,
      );
      expect(outcome).toBe("closed");
    } finally {
      await other.close();
      evil.close();
    }
  });

  it(
    "shows the guest's screen: the canvas matches QMP screendump",
    async () => {
      const { diff, blank } = await screenMatches(page, m, 1);
      expect(diff).toBeLessThan(1);
      // The screen has text: a blank canvas would be far off, so the comparison can fail.
      expect(blank).toBeGreaterThan(3);
    },
    SLOW,
  );

  it(
    "keys typed into the screen reach the guest",
    async () => {
      await page.locator("#screen canvas").click();
      // The shell on tty1 computes 42 and writes it to the serial line, where the test reads it.
      await typeOnKeyboard(page, "echo vnc-$((40+2)) > /dev/ttyS0\n");
      const { match } = await m.console.waitFor(/vnc-\d+/, { timeout: 60_000 });
      expect(match[0]).toBe("vnc-42");
    },
    SLOW,
  );

  it(
    "the serial console shows the guest's prompt and runs a command typed into it",
    async () => {
      await until(
        async () => (await terminalLines(page)).some((l) => t.prompt.test(`${l} `)),
        60_000,
        "the prompt in xterm.js",
      );
      await page.locator("#terminal").click();
      await page.keyboard.type("echo serial-$((6*7))");
      await page.keyboard.press("Enter");
      await until(
        async () => (await terminalLines(page)).some((l) => l.trim() === "serial-42"),
        60_000,
        "the command's output in xterm.js",
      );
      expect(m.console.transcript).toContain("serial-42");
      // The page shares the VM's one console connection: QEMU's console socket has one client, this process.
      const clients = await unixSocketClients(join(m.runDir, "console.sock"));
      expect(clients?.map((c) => c.pid)).toEqual([process.pid]);
      if (process.env.QEMUKIT_DOCS_SCREENSHOT) {
        await screenMatches(page, m, 1);
        await mkdir(join(DOCS_IMG, ".."), { recursive: true });
        await writeFile(DOCS_IMG, await page.screenshot({ fullPage: true }));
      }
    },
    SLOW,
  );
});

describe("web console with VNC shared beyond loopback", () => {
  it(
    "sets a VNC password over QMP and hands it to the page only; the server stops with the VM",
    async () => {
      const m = await bootTiny("web-shared", { listen: "0.0.0.0", password: true });
      try {
        expect(m.vnc?.host).toBe("0.0.0.0");
        const web = await m.web();
        // The raw VNC port now asks every client for the password qemukit set.
        const hs = await rfbHandshake("127.0.0.1", m.vnc!.port);
        expect(hs.securityTypes).toEqual([2]);
        const config = (await (await fetch(`${web.url}config.json`)).json()) as { password?: string };
        expect(config.password).toMatch(/^[A-Za-z0-9_-]{8}$/);
        const page = await openPage(web.url);
        try {
          const { diff } = await screenMatches(page, m, 1);
          expect(diff).toBeLessThan(1);
        } finally {
          await page.close();
        }
        await m.shutdown({ timeouts: { powerdown: 0 } });
        await web.closed;
        expect(web.isClosed).toBe(true);
        await expect(fetch(web.url)).rejects.toThrow();
      } finally {
        await m.shutdown({ timeouts: { powerdown: 0 } });
      }
    },
    SLOW,
  );

  it(
    "sets the password asked for when VNC wants one, also on loopback",
    async () => {
      const m = await vm().name(`web-pw-${process.pid}`).memory(64).vnc("auto", { password: true }).start();
      try {
        const web = await m.web({ vncPassword: "chosen12" });
        const config = (await (await fetch(`${web.url}config.json`)).json()) as { password?: string };
        expect(config.password).toBe("chosen12");
        expect((await rfbHandshake("127.0.0.1", m.vnc!.port)).securityTypes).toEqual([2]);
      } finally {
        await m.shutdown({ timeouts: { powerdown: 0 } });
      }
    },
    SLOW,
  );

  it(
    "refuses to serve a VNC display open to the network without a password",
    async () => {
      const m = await vm().name(`web-open-${process.pid}`).memory(64).vnc("auto", { listen: "0.0.0.0" }).start();
      try {
        await expect(m.web()).rejects.toMatchObject({ code: "WEB_VNC_UNPROTECTED" });
      } finally {
        await m.shutdown({ timeouts: { powerdown: 0 } });
      }
    },
    SLOW,
  );
});
