/**
 * Prints observations for people: nested keys indented, one value a line.
 * @module
 */

/** Writes `obs` as an indented `key: value` list. */
export function printObservations(out: { write(s: string): unknown }, obs: object): void {
  out.write("\nobservations:\n");
  for (const line of formatObservations(obs, 1)) out.write(`${line}\n`);
}

/** The lines {@link printObservations} prints. */
export function formatObservations(value: unknown, depth = 0): string[] {
  const pad = "  ".repeat(depth);
  const lines: string[] = [];
  if (value === null || typeof value !== "object") return [`${pad}${JSON.stringify(value)}`];
  const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    if (v !== null && typeof v === "object" && !isFlat(v)) {
      lines.push(`${pad}${k}:`);
      lines.push(...formatObservations(v, depth + 1));
    } else {
      lines.push(`${pad}${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    }
  }
  return lines;
}

function isFlat(v: object): boolean {
  const vals = Array.isArray(v) ? v : Object.values(v);
  return vals.length <= 6 && vals.every((x) => x === null || typeof x !== "object") && JSON.stringify(v).length < 160;
}
