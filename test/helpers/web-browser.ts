/**
 * The web console tests' browser: the system's Chromium (Debian `chromium`, installed by
 * the set-up) driven over the DevTools protocol by playwright-core, which downloads none.
 */
import { type Browser, chromium, type Page } from "playwright-core";
import { which } from "../../sdk/util/exec.ts";
import { decodePng, type Rgb } from "../../recipes/lib/png.ts";

/** Flags for a root, offline, headless Chromium on these machines. */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Starts headless Chromium with a fresh profile (playwright makes a temporary one). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await which("chromium");
  if (!executablePath) throw new Error("chromium is not installed: run npm run setup (Debian package chromium)");
  return chromium.launch({ executablePath, headless: true, args: FLAGS, timeout: 120_000 });
}

/** The xterm.js terminal's lines as text (window.qemukit.term on the web console page). */
export function terminalLines(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const term = (globalThis as unknown as { qemukit: { term?: { buffer: { active: XtermBuffer } } } }).qemukit.term;
    if (!term) return [];
    const b = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
    return lines;
  });
}
interface XtermBuffer {
  readonly length: number;
  getLine(i: number): { translateToString(trim: boolean): string } | undefined;
}

/** Mean absolute difference per colour channel (0-255) of two equal-sized images; Infinity if sizes differ. */
export function meanDifference(a: Rgb, b: Rgb): number {
  if (a.width !== b.width || a.height !== b.height) return Number.POSITIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++) sum += Math.abs(a.pixels[i]! - b.pixels[i]!);
  return sum / a.pixels.length;
}

/** A black image of the same size, to show what a blank canvas would score. */
export function blackLike(img: Rgb): Rgb {
  return { width: img.width, height: img.height, pixels: new Uint8Array(img.pixels.length) };
}

export { decodePng };

const SHIFTED = /[A-Z~!@#$%^&*()_+{}|:"<>?]/;

/**
 * Types `text` as a person would on a US keyboard: Shift held down around shifted
 * characters. (Playwright's type() sends "$" as the key Digit4 without Shift; QEMU's VNC
 * server, fed scancodes by noVNC, would then type "4".)
 */
export async function typeOnKeyboard(page: Page, text: string): Promise<void> {
  for (const ch of text) {
    if (ch === "\n") await page.keyboard.press("Enter");
    else if (SHIFTED.test(ch)) {
      await page.keyboard.down("Shift");
      await page.keyboard.press(ch);
      await page.keyboard.up("Shift");
    } else await page.keyboard.press(ch);
  }
}
