/**
 * Splits a QMP byte stream into JSON messages. QEMU normally writes one object per
 * CRLF-terminated line, but `pretty=on` spreads a message over many lines, so messages are
 * delimited by tracking braces and strings, not newlines. Pure, no I/O.
 * @module
 */

/** One complete top-level JSON text found in the stream. */
export interface Frame {
  /** The message text. */
  readonly text: string;
  /** True when the text has a run of 16+ digits: it may hold an integer beyond 2^53. */
  readonly mayHaveBigInts: boolean;
}

/** Bytes that are not part of any JSON object (garbage on the wire). */
export interface GarbageFrame {
  readonly garbage: string;
}

/**
 * Incremental splitter. Feed it chunks with {@link JsonFramer.push}; it calls `onFrame` for
 * each complete top-level object and `onGarbage` for each line of stray bytes outside one.
 * Scanning works on bytes: `{ } [ ] " \` are ASCII and never occur inside a multi-byte
 * UTF-8 sequence, and the state carries across chunks, so each byte is looked at once.
 *
 * @example
 * ```ts
 * const framer = new JsonFramer((f) => console.log(JSON.parse(f.text)), (g) => {});
 * socket.on("data", (chunk) => framer.push(chunk));
 * ```
 */
export class JsonFramer {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private skippingGarbage = false;
  private digitRun = 0;
  private longDigits = false;
  /** Earlier chunks holding the beginning of the current message (or garbage line). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly onGarbage: (frame: GarbageFrame) => void = () => {},
    /** Messages larger than this are a protocol error (guards memory against a runaway peer). */
    private readonly maxMessageBytes = 256 * 1024 * 1024,
  ) {}

  /** Feeds one chunk of the stream. */
  push(chunk: Buffer): void {
    let start = 0; // where the current message/garbage begins within this chunk (if it does)
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let digitRun = this.digitRun;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
        continue;
      }
      if (depth === 0) {
        if (this.skippingGarbage) {
          if (c === 0x0a) {
            this.skippingGarbage = false;
            this.emitGarbage(chunk, start, i);
            start = i + 1;
          }
          continue;
        }
        if (c === 0x7b) {
          depth = 1;
          start = i;
          this.longDigits = false;
          digitRun = 0;
        } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
          this.skippingGarbage = true;
          start = i;
        }
        continue;
      }
      if (c === 0x22) {
        inString = true;
        digitRun = 0;
      } else if (c >= 0x30 && c <= 0x39) {
        if (++digitRun >= 16) this.longDigits = true;
      } else {
        digitRun = 0;
        if (c === 0x7b || c === 0x5b) depth++;
        else if ((c === 0x7d || c === 0x5d) && --depth === 0) {
          this.emitFrame(chunk, start, i + 1);
          start = i + 1;
        }
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.digitRun = digitRun;
    if (depth > 0 || this.skippingGarbage) {
      const rest = start === 0 ? chunk : chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxMessageBytes) {
        this.reset();
        this.onGarbage({ garbage: `<message larger than ${this.maxMessageBytes} bytes dropped>` });
        this.skippingGarbage = true;
        return;
      }
      this.pending.push(rest);
    }
  }

  /** Whether a partial message is buffered (useful to detect a disconnect mid-message). */
  get midMessage(): boolean {
    return this.depth > 0;
  }

  private take(chunk: Buffer, start: number, end: number): string {
    if (this.pending.length === 0) return chunk.toString("utf8", start, end);
    const parts = this.pending;
    parts.push(chunk.subarray(start, end));
    this.pending = [];
    this.pendingBytes = 0;
    return Buffer.concat(parts).toString("utf8");
  }

  private emitFrame(chunk: Buffer, start: number, end: number): void {
    this.onFrame({ text: this.take(chunk, start, end), mayHaveBigInts: this.longDigits });
  }

  private emitGarbage(chunk: Buffer, start: number, end: number): void {
    this.onGarbage({ garbage: this.take(chunk, start, end).replace(/\r$/, "") });
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.digitRun = 0;
  }
}
