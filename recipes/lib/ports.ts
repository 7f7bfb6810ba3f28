/**
 * Picking a VNC display whose port is free, so the lab's `:1` does not collide with
 * another VM on the same host.
 * @module
 */
import { createServer } from "node:net";

/** True when nothing listens on `port` at `host` (we could bind it ourselves). */
export function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** The first display number from `wanted` up whose port 5900+N is free. */
export async function freeDisplay(wanted: number, tries = 50): Promise<number> {
  for (let d = wanted; d < wanted + tries && d <= 99; d++) {
    if (await portFree(5900 + d)) return d;
  }
  throw new Error(`no free VNC display between :${wanted} and :${Math.min(99, wanted + tries - 1)}`);
}
