/**
 * Kernel module facts read straight from `.ko` files (no kmod/depmod needed on
 * the host): the `.modinfo` section's `depends=` list, and a load order.
 * @module
 */

/**
 * Reads the null-separated `key=value` strings of an ELF64 module's `.modinfo` section.
 *
 * @example
 * ```ts
 * const info = readModinfo(await readFile("libata.ko"));
 * info.get("depends"); // ["scsi_mod"]
 * ```
 */
export function readModinfo(ko: Uint8Array): Map<string, string[]> {
  const view = new DataView(ko.buffer, ko.byteOffset, ko.byteLength);
  if (view.getUint32(0) !== 0x7f454c46 || ko[4] !== 2 || ko[5] !== 1) {
    throw new Error("not a little-endian ELF64 kernel module");
  }
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: view.getUint32(at, true),
      offset: Number(view.getBigUint64(at + 0x18, true)),
      size: Number(view.getBigUint64(at + 0x20, true)),
    };
  };
  const names = section(shstrndx);
  const dec = new TextDecoder();
  const cstr = (at: number) => {
    let end = at;
    while (ko[end] !== 0) end++;
    return dec.decode(ko.subarray(at, end));
  };
  const out = new Map<string, string[]>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (cstr(names.offset + s.name) !== ".modinfo") continue;
    for (const item of dec.decode(ko.subarray(s.offset, s.offset + s.size)).split("\0")) {
      const eq = item.indexOf("=");
      if (eq <= 0) continue;
      const key = item.slice(0, eq);
      out.set(key, [...(out.get(key) ?? []), item.slice(eq + 1)]);
    }
  }
  return out;
}

/**
 * The modules a module needs loaded first (its `depends=` field), as module names: the field
 * keeps file-name dashes (`t10-pi`, `crc64-rocksoft`), which {@link moduleName} turns into the
 * underscores a module name uses.
 *
 * @example
 * ```ts
 * moduleDepends(await readFile("sd_mod.ko")); // ["scsi_mod", "t10_pi"]
 * ```
 */
export function moduleDepends(ko: Uint8Array): string[] {
  const dep = readModinfo(ko).get("depends")?.[0] ?? "";
  return dep
    .split(",")
    .filter(Boolean)
    .map((d) => d.replace(/-/g, "_"));
}

/** Module names as the kernel spells them (`sd_mod`); file names may use dashes. */
export function moduleName(fileName: string): string {
  return fileName.replace(/\.ko(\.(xz|zst|gz))?$/, "").replace(/-/g, "_");
}

/**
 * Orders `wanted` modules and everything they depend on so that each comes after
 * its dependencies. `dependsOf` answers for one module name.
 *
 * @example
 * ```ts
 * loadOrder(["sd_mod"], (m) => ({ sd_mod: ["scsi_mod", "scsi_common"], scsi_mod: ["scsi_common"] })[m] ?? []);
 * // ["scsi_common", "scsi_mod", "sd_mod"]
 * ```
 */
export function loadOrder(wanted: readonly string[], dependsOf: (name: string) => readonly string[]): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (m: string, chain: string[]) => {
    const s = state.get(m);
    if (s === "done") return;
    if (s === "visiting") throw new Error(`module dependency cycle: ${[...chain, m].join(" -> ")}`);
    state.set(m, "visiting");
    for (const d of dependsOf(m)) visit(d, [...chain, m]);
    state.set(m, "done");
    order.push(m);
  };
  for (const m of wanted) visit(m, []);
  return order;
}
