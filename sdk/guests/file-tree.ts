/**
 * An in-memory file tree that becomes a cpio archive: adds parent directories
 * automatically and keeps insertion order (parents first), as the kernel needs.
 * @module
 */
import type { CpioEntry } from "./cpio.ts";

/**
 * Collects initramfs contents.
 *
 * @example
 * ```ts
 * const t = new FileTree();
 * t.file("/etc/hostname", "tiny\n");
 * t.symlink("/bin/sh", "busybox");
 * writeCpioGz(t.entries());
 * ```
 */
export class FileTree {
  readonly #entries = new Map<string, CpioEntry>();

  #norm(path: string): string {
    return path.replace(/^\/+/, "").replace(/\/+$/, "");
  }

  #parents(path: string): void {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!this.#entries.has(dir)) this.#entries.set(dir, { type: "dir", path: dir });
    }
  }

  /** Adds a directory (and its parents). */
  dir(path: string, mode = 0o755): this {
    const p = this.#norm(path);
    this.#parents(p);
    if (!this.#entries.has(p)) this.#entries.set(p, { type: "dir", path: p, mode });
    return this;
  }

  /** Adds or replaces a regular file. */
  file(path: string, data: string | Uint8Array, mode = 0o644): this {
    const p = this.#norm(path);
    this.#parents(p);
    this.#entries.set(p, {
      type: "file",
      path: p,
      data: typeof data === "string" ? new TextEncoder().encode(data) : data,
      mode,
    });
    return this;
  }

  /** Adds a symlink unless something already lives at `path`. */
  symlink(path: string, target: string): this {
    const p = this.#norm(path);
    this.#parents(p);
    if (!this.#entries.has(p)) this.#entries.set(p, { type: "symlink", path: p, target });
    return this;
  }

  /** Adds a character device node. */
  chardev(path: string, major: number, minor: number, mode = 0o600): this {
    const p = this.#norm(path);
    this.#parents(p);
    this.#entries.set(p, { type: "chardev", path: p, major, minor, mode });
    return this;
  }

  /** True when something is at `path`. */
  has(path: string): boolean {
    return this.#entries.has(this.#norm(path));
  }

  /** The entries, parents before children. */
  entries(): CpioEntry[] {
    return [...this.#entries.values()];
  }
}
