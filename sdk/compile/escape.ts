/**
 * Escaping values for QEMU's `key=value,...` option syntax.
 * @module
 */

/**
 * Escape a value for a QEMU `key=value,...` option: a literal comma is written `,,`.
 *
 * @example
 * ```ts
 * optValue("a,b.qcow2");   // "a,,b.qcow2"
 * ```
 */
export function optValue(value: string): string {
  return value.replaceAll(",", ",,");
}

/**
 * Protect a file name from QEMU's protocol detection: a relative name with a `:` before
 * any `/` (`nbd:x`, `a:b.qcow2`) would be taken as `protocol:rest`, so it gets a `./`.
 *
 * @example
 * ```ts
 * plainFile("a:b.qcow2");   // "./a:b.qcow2"
 * ```
 */
export function plainFile(path: string): string {
  const colon = path.indexOf(":");
  if (colon < 0) return path;
  const slash = path.indexOf("/");
  return slash >= 0 && slash < colon ? path : `./${path}`;
}

/**
 * Join `key=value` pairs (values escaped), dropping undefined ones; a leading bare word is allowed.
 *
 * @example
 * ```ts
 * optList("socket", [["id", "qmp"], ["path", "/r,un/qmp.sock"], ["server", true]]);   // "socket,id=qmp,path=/r,,un/qmp.sock,server=on"
 * ```
 */
export function optList(
  head: string | undefined,
  pairs: ReadonlyArray<readonly [string, string | number | boolean | undefined]>,
): string {
  const parts: string[] = head !== undefined ? [head] : [];
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    const s = typeof v === "boolean" ? (v ? "on" : "off") : String(v);
    parts.push(`${k}=${optValue(s)}`);
  }
  return parts.join(",");
}
