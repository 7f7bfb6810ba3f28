/**
 * Opening the byte stream under a QMP connection (unix socket, TCP, or a given duplex).
 * @module
 */
import { connect as netConnect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { QmpConnectionError } from "./errors.ts";
import type { QmpTarget } from "./types.ts";

/** Human-readable name of a target for error messages. */
export function describeTarget(target: QmpTarget): string {
  if (typeof target === "string") return target;
  if ("host" in target && "port" in target && typeof (target as { port: unknown }).port === "number") {
    const t = target as { host: string; port: number };
    return `${t.host}:${t.port}`;
  }
  return "<stream>";
}

/**
 * Connects to `target`. While QEMU is still starting the socket may be missing
 * (ENOENT) or refuse (ECONNREFUSED): those are retried until `retryUntil` (epoch ms).
 */
export async function openStream(target: QmpTarget, retryUntil = 0): Promise<Duplex> {
  if (
    typeof target !== "string" &&
    !("host" in target && "port" in target && typeof (target as { port: unknown }).port === "number")
  ) {
    return target as Duplex;
  }
  let delay = 10;
  for (;;) {
    try {
      return await connectOnce(target as string | { host: string; port: number });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const retryable = code === "ENOENT" || code === "ECONNREFUSED";
      if (retryable && Date.now() < retryUntil) {
        await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, retryUntil - Date.now()))));
        delay = Math.min(delay * 2, 200);
        continue;
      }
      throw new QmpConnectionError(
        "QMP_CONNECT",
        `could not connect to the QMP socket ${describeTarget(target)}: ${(e as Error).message}`,
        {
          advice: retryable
            ? "is QEMU running with -qmp unix:PATH,server=on,wait=off (or -chardev socket + -mon mode=control)? Pass { retryUntil: Date.now() + 10_000 } to wait for it to start"
            : "check the socket path/address and its permissions",
          cause: e,
          details: { target: describeTarget(target), errno: code },
        },
      );
    }
  }
}

function connectOnce(target: string | { host: string; port: number }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      typeof target === "string" ? netConnect({ path: target }) : netConnect({ host: target.host, port: target.port });
    const onError = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      // Small request/reply messages: Nagle would add up to 40 ms per round trip on TCP.
      if (typeof target !== "string") socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
