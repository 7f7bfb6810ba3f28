/**
 * Files in and out of the guest through the agent's `guest-file-*` commands, in 1 MiB
 * chunks (each travels as base64 inside one JSON message); `copyFileIn`/`copyFileOut` stream
 * host files over either transport (the agent's, or the serial console's in console-files.ts).
 * @module
 */
import { Buffer } from "node:buffer";
import { open } from "node:fs/promises";
import type { GuestAgent } from "./client.ts";
import { AgentError } from "./errors.ts";

/** Bytes per guest-file-read/-write: large enough to amortise a round trip, small enough for qemu-ga's JSON limits. */
export const FILE_CHUNK = 1024 * 1024;

/** Options of the file transfers. */
export interface GuestFileOptions {
  readonly signal?: AbortSignal;
  /** Called after each chunk with the bytes moved so far (and the total, when known). */
  readonly onProgress?: (done: number, total: number | undefined) => void;
  /** Mode bits of a file written in the guest (through `chmod`), e.g. 0o755. */
  readonly mode?: number;
}

async function withHandle<T>(
  agent: GuestAgent,
  path: string,
  mode: string,
  signal: AbortSignal | undefined,
  fn: (h: number) => Promise<T>,
): Promise<T> {
  const handle = await agent.execute("guest-file-open", { path, mode }, signal ? { signal } : {});
  try {
    return await fn(handle);
  } finally {
    await agent.execute("guest-file-close", { handle }).catch(() => {});
  }
}

/**
 * Reads a guest file (streams chunks to `sink`). Returns the byte count.
 * @example `await readGuestFile(agent, "/etc/os-release", (c) => chunks.push(c));`
 */
export async function readGuestFile(
  agent: GuestAgent,
  path: string,
  sink: (chunk: Buffer) => void | Promise<void>,
  options: GuestFileOptions = {},
): Promise<number> {
  const { signal } = options;
  return withHandle(agent, path, "r", signal, async (handle) => {
    let done = 0;
    for (;;) {
      const r = await agent.execute(
        "guest-file-read",
        { handle, count: FILE_CHUNK },
        signal ? { signal, timeout: 120_000 } : { timeout: 120_000 },
      );
      if (r.count > 0) {
        const chunk = Buffer.from(r["buf-b64"], "base64");
        if (chunk.length !== r.count) {
          throw new AgentError("AGENT_PROTOCOL", `guest-file-read said ${r.count} bytes but sent ${chunk.length}`, {
            details: { path },
          });
        }
        await sink(chunk);
        done += chunk.length;
        options.onProgress?.(done, undefined);
      }
      if (r.eof || r.count === 0) return done;
    }
  });
}

/**
 * Writes `source` chunks to a guest file (created or truncated). Returns the byte count.
 * @example `await writeGuestFile(agent, "/tmp/x", [Buffer.from("hi\n")]);`
 */
export async function writeGuestFile(
  agent: GuestAgent,
  path: string,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: GuestFileOptions & { readonly total?: number } = {},
): Promise<number> {
  const { signal } = options;
  const done = await withHandle(agent, path, "w", signal, async (handle) => {
    let done = 0;
    for await (const piece of source) {
      for (let off = 0; off < piece.length; off += FILE_CHUNK) {
        const chunk = piece.subarray(off, off + FILE_CHUNK);
        const b64 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64");
        const r = await agent.execute(
          "guest-file-write",
          { handle, "buf-b64": b64 },
          signal ? { signal, timeout: 120_000 } : { timeout: 120_000 },
        );
        if (r.count !== chunk.length) {
          throw new AgentError(
            "AGENT_PROTOCOL",
            `guest-file-write wrote ${r.count} of ${chunk.length} bytes to ${path}`,
            {
              advice: "the guest file system may be full",
              details: { path },
            },
          );
        }
        done += chunk.length;
        options.onProgress?.(done, options.total);
      }
    }
    await agent.execute("guest-file-flush", { handle });
    return done;
  });
  if (options.mode !== undefined) {
    const { pid } = await agent.execute("guest-exec", {
      path: "/bin/chmod",
      arg: [(options.mode & 0o7777).toString(8), path],
    });
    for (
      let s = await agent.execute("guest-exec-status", { pid });
      !s.exited;
      s = await agent.execute("guest-exec-status", { pid })
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return done;
}

/** Reads and writes whole guest files; one per transport (agent, serial console). */
export interface GuestFileTransport {
  read(path: string, sink: (chunk: Buffer) => void | Promise<void>, options: GuestFileOptions): Promise<number>;
  write(
    path: string,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: GuestFileOptions & { readonly total?: number },
  ): Promise<number>;
}

/**
 * The agent's `guest-file-*` commands as a {@link GuestFileTransport}.
 * @example `await copyFileIn(agentFiles(agent), "report.txt", "/root/report.txt");`
 */
export function agentFiles(agent: GuestAgent): GuestFileTransport {
  return {
    read: (path, sink, options) => readGuestFile(agent, path, sink, options),
    write: (path, source, options) => writeGuestFile(agent, path, source, options),
  };
}

/**
 * Streams a host file into the guest.
 * @example `await copyFileIn(agentFiles(agent), "report.txt", "/root/report.txt");`
 */
export async function copyFileIn(
  files: GuestFileTransport,
  hostPath: string,
  guestPath: string,
  options: GuestFileOptions = {},
): Promise<number> {
  const fh = await open(hostPath, "r");
  try {
    const total = (await fh.stat()).size;
    return await files.write(guestPath, fh.createReadStream({ highWaterMark: FILE_CHUNK, autoClose: false }), {
      ...options,
      total,
    });
  } finally {
    await fh.close();
  }
}

/**
 * Streams a guest file to the host.
 * @example `await copyFileOut(agentFiles(agent), "/var/log/syslog", "syslog.txt");`
 */
export async function copyFileOut(
  files: GuestFileTransport,
  guestPath: string,
  hostPath: string,
  options: GuestFileOptions = {},
): Promise<number> {
  const fh = await open(hostPath, "w");
  try {
    return await files.read(
      guestPath,
      async (c) => {
        await fh.write(c);
      },
      options,
    );
  } finally {
    await fh.close();
  }
}
