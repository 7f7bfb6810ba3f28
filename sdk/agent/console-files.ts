/**
 * Files through the serial console, for guests without an agent: base64 typed in as shell
 * lines (`printf %s B64 | base64 -d >> FILE`, one tty line each, so a few KiB per round
 * trip) and read back as `dd ... | base64` output between the console's markers (192 KiB
 * per round trip, well under the console's 1 MiB match buffer). The guest needs `base64`,
 * `dd` and `wc` (coreutils or busybox). Slow: the bytes cross an emulated UART both ways.
 * @module
 */
import { Buffer } from "node:buffer";
import { shellQuote } from "../compile/shell.ts";
import type { ConsoleRunOptions, ConsoleRunResult } from "../machine/console.ts";
import { AgentError } from "./errors.ts";
import type { GuestFileOptions, GuestFileTransport } from "./files.ts";

/** The part of a Console the file transfers use. */
export interface FileConsole {
  run(command: string, options?: ConsoleRunOptions): Promise<ConsoleRunResult>;
}

/**
 * Characters of one typed command line: the tty's canonical line limit is 4095, and the
 * console's markers around the command take some.
 */
const LINE_BUDGET = 3900;
/** Bytes read per round trip (base64 output about 260 KB). */
export const CONSOLE_READ_CHUNK = 192 * 1024;
/** Per round trip; a loaded TCG host moves a few KB/s over the emulated UART. */
const STEP_TIMEOUT = 300_000;

/**
 * Reads and writes guest files by typing shell commands into the serial console.
 * @example `await copyFileIn(consoleFiles(m.console), "notes.txt", "/root/notes.txt");`
 */
export function consoleFiles(console: FileConsole): GuestFileTransport {
  const run = (command: string, signal: AbortSignal | undefined) =>
    console.run(command, { timeout: STEP_TIMEOUT, ...(signal ? { signal } : {}) });
  return {
    async read(path, sink, options: GuestFileOptions) {
      const q = shellQuote(path);
      const total = sizeOf((await run(`wc -c < ${q}`, options.signal)).output, path);
      let done = 0;
      for (let block = 0; done < total; block++) {
        const { output } = await run(
          `dd if=${q} bs=${CONSOLE_READ_CHUNK} skip=${block} count=1 2>/dev/null | base64`,
          options.signal,
        );
        const chunk = Buffer.from(output.replace(/\s+/g, ""), "base64");
        if (chunk.length === 0) break; // the file shrank while being read
        await sink(chunk);
        done += chunk.length;
        options.onProgress?.(done, total);
      }
      return done;
    },

    async write(path, source, options: GuestFileOptions & { readonly total?: number }) {
      const q = shellQuote(path);
      await run(`: > ${q}`, options.signal);
      // Base64 characters per line, a multiple of 4 (each line decodes on its own).
      const b64Chars = Math.floor((LINE_BUDGET - q.length - 40) / 4) * 4;
      if (b64Chars < 400) {
        throw new AgentError("AGENT_PROTOCOL", `guest path too long to write through the serial console: ${path}`, {
          advice: "use a shorter path, or start the VM with a guest agent (vm().agent())",
        });
      }
      const per = (b64Chars / 4) * 3;
      let done = 0;
      for await (const piece of source) {
        for (let off = 0; off < piece.length; off += per) {
          const chunk = piece.subarray(off, off + per);
          const b64 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64");
          await run(`printf %s ${b64} | base64 -d >> ${q}`, options.signal);
          done += chunk.length;
          options.onProgress?.(done, options.total);
        }
      }
      const size = sizeOf(
        (
          await run(
            options.mode !== undefined
              ? `chmod ${(options.mode & 0o7777).toString(8)} ${q} && wc -c < ${q}`
              : `wc -c < ${q}`,
            options.signal,
          )
        ).output,
        path,
      );
      if (size !== done) {
        throw new AgentError("AGENT_PROTOCOL", `${path} has ${size} bytes in the guest after writing ${done}`, {
          advice: "the guest file system may be full, or something else wrote the file at the same time",
          details: { path },
        });
      }
      return done;
    },
  };
}

function sizeOf(output: string, path: string): number {
  const m = /^\s*(\d+)\s*$/.exec(output);
  if (!m) {
    throw new AgentError("AGENT_PROTOCOL", `unexpected output of wc -c for ${path}: ${JSON.stringify(output)}`, {
      details: { path },
    });
  }
  return Number(m[1]);
}
