/**
 * Pure: turns qemu-img's info JSON into {@link ImageInfo} and renders the summary text.
 * @module
 */
import type { FormatSpecific, ImageInfo, SnapshotInfo } from "./info-types.ts";
import { toBigInt, type LosslessJson } from "./json.ts";
import { formatSize } from "./size.ts";

type Obj = { readonly [key: string]: LosslessJson };

const str = (v: LosslessJson | undefined) => (typeof v === "string" ? v : undefined);
const big = (v: LosslessJson | undefined) => toBigInt(v);

function snapshotOf(s: Obj): SnapshotInfo {
  const sec = big(s["date-sec"]) ?? 0n;
  const nsec = big(s["date-nsec"]) ?? 0n;
  const icount = big(s["icount"]);
  return {
    id: String(s["id"] ?? ""),
    name: str(s["name"]) ?? "",
    vmStateSize: big(s["vm-state-size"]) ?? 0n,
    date: new Date(Number(sec * 1000n + nsec / 1_000_000n)),
    vmClockNs: (big(s["vm-clock-sec"]) ?? 0n) * 1_000_000_000n + (big(s["vm-clock-nsec"]) ?? 0n),
    ...(icount !== undefined ? { icount } : {}),
  };
}

/**
 * Maps one layer's JSON (and optionally its already-mapped backing) to an ImageInfo.
 *
 * @example
 * ```ts
 * const info = infoFromJson(parseJsonLossless(stdout) as Obj);
 * ```
 */
export function infoFromJson(j: Obj, backing?: ImageInfo): ImageInfo {
  const fs = j["format-specific"] as Obj | undefined;
  const formatSpecific: FormatSpecific | undefined = fs && typeof fs["type"] === "string"
    ? { type: fs["type"], data: (fs["data"] ?? {}) as Obj }
    : undefined;
  const cs = j["cluster-size"];
  const base = {
    filename: str(j["filename"]) ?? "",
    format: str(j["format"]) ?? "",
    virtualSize: big(j["virtual-size"]) ?? 0n,
    actualSize: big(j["actual-size"]),
    clusterSize: typeof cs === "number" ? cs : undefined,
    encrypted: j["encrypted"] === true,
    dirty: j["dirty-flag"] === true,
    corrupt: formatSpecific?.data["corrupt"] === true,
    ...(str(j["backing-filename"]) !== undefined ? { backingFilename: str(j["backing-filename"]) } : {}),
    ...(str(j["full-backing-filename"]) !== undefined ? { fullBackingFilename: str(j["full-backing-filename"]) } : {}),
    ...(str(j["backing-filename-format"]) !== undefined ? { backingFilenameFormat: str(j["backing-filename-format"]) } : {}),
    snapshots: Array.isArray(j["snapshots"]) ? (j["snapshots"] as Obj[]).map(snapshotOf) : [],
    ...(formatSpecific ? { formatSpecific } : {}),
    ...(backing ? { backing } : {}),
    json: j,
  };
  const summary = [layerSummary(base), ...(backing ? [backing.summary] : [])].join("\n\n");
  return { ...base, summary };
}

const pad2 = (n: number) => String(n).padStart(2, "0");

function snapshotLine(s: SnapshotInfo): string {
  const d = s.date;
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const ms = s.vmClockNs / 1_000_000n;
  const clock = `${pad2(Number(ms / 3_600_000n))}:${pad2(Number((ms / 60_000n) % 60n))}:${pad2(Number((ms / 1000n) % 60n))}.${String(ms % 1000n).padStart(3, "0")}`;
  return `${s.id.padEnd(10)}${s.name.padEnd(18)}${formatSize(s.vmStateSize).padStart(7)} ${date} ${clock} ${String(s.icount ?? 0n).padStart(10)}`;
}

function renderSpecific(v: LosslessJson, indent: string): string[] {
  const lines: string[] = [];
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      lines.push(`${indent}[${i}]:`);
      lines.push(...renderSpecific(item, indent + "    "));
    });
    return lines;
  }
  if (v && typeof v === "object") {
    for (const [k, val] of Object.entries(v)) {
      const key = k.replaceAll("-", " ");
      if (val && typeof val === "object") {
        lines.push(`${indent}${key}:`);
        lines.push(...renderSpecific(val, indent + "    "));
      } else lines.push(`${indent}${key}: ${String(val)}`);
    }
  }
  return lines;
}

function layerSummary(i: Omit<ImageInfo, "summary">): string {
  const lines = [
    `image: ${i.filename}`,
    `file format: ${i.format}`,
    `virtual size: ${formatSize(i.virtualSize)} (${i.virtualSize} bytes)`,
    `disk size: ${i.actualSize === undefined ? "unavailable" : formatSize(i.actualSize)}`,
  ];
  if (i.clusterSize !== undefined) lines.push(`cluster_size: ${i.clusterSize}`);
  if (i.encrypted) lines.push("encrypted: yes");
  if (i.backingFilename !== undefined) {
    const actual = i.fullBackingFilename && i.fullBackingFilename !== i.backingFilename
      ? ` (actual path: ${i.fullBackingFilename})`
      : "";
    lines.push(`backing file: ${i.backingFilename}${actual}`);
  }
  if (i.backingFilenameFormat !== undefined) lines.push(`backing file format: ${i.backingFilenameFormat}`);
  if (i.dirty) lines.push("cleanly shut down: no");
  if (i.snapshots.length) {
    lines.push("Snapshot list:");
    lines.push("ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT");
    for (const s of i.snapshots) lines.push(snapshotLine(s));
  }
  if (i.formatSpecific) {
    lines.push("Format specific information:");
    lines.push(...renderSpecific(i.formatSpecific.data, "    "));
  }
  return lines.join("\n");
}
