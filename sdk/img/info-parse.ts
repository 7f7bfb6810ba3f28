/**
 * Pure: turns qemu-img's info JSON into {@link ImageInfo} and renders the summary text.
 * @module
 */
import type { FormatSpecific, ImageInfo, SnapshotInfo } from "./info-types.ts";
import { formatSize } from "../util/size.ts";
import { intOf, type ImageJson, type ImageJsonObject as Obj } from "./json.ts";

const str = (v: ImageJson | undefined) => (typeof v === "string" ? v : undefined);

function snapshotOf(s: Obj): SnapshotInfo {
  const icount = intOf(s["icount"]);
  return {
    id: String(s["id"] ?? ""),
    name: str(s["name"]) ?? "",
    vmStateSize: intOf(s["vm-state-size"]) ?? 0,
    date: new Date((intOf(s["date-sec"]) ?? 0) * 1000 + Math.floor((intOf(s["date-nsec"]) ?? 0) / 1_000_000)),
    vmClockNs: (intOf(s["vm-clock-sec"]) ?? 0) * 1_000_000_000 + (intOf(s["vm-clock-nsec"]) ?? 0),
    ...(icount !== undefined ? { icount } : {}),
  };
}

/**
 * Maps one layer's JSON (and optionally its already-mapped backing) to an ImageInfo.
 *
 * @example
 * ```ts
 * const info = infoFromJson(parseImageJson(stdout, { op: "info", path }) as ImageJsonObject);
 * ```
 */
export function infoFromJson(j: Obj, backing?: ImageInfo): ImageInfo {
  const fs = j["format-specific"] as Obj | undefined;
  const formatSpecific: FormatSpecific | undefined =
    fs && typeof fs["type"] === "string" ? { type: fs["type"], data: (fs["data"] ?? {}) as Obj } : undefined;
  const cs = j["cluster-size"];
  const base = {
    filename: str(j["filename"]) ?? "",
    format: str(j["format"]) ?? "",
    virtualSize: intOf(j["virtual-size"]) ?? 0,
    actualSize: intOf(j["actual-size"]),
    clusterSize: typeof cs === "number" ? cs : undefined,
    encrypted: j["encrypted"] === true,
    dirty: j["dirty-flag"] === true,
    corrupt: formatSpecific?.data["corrupt"] === true,
    ...(str(j["backing-filename"]) !== undefined ? { backingFilename: str(j["backing-filename"]) } : {}),
    ...(str(j["full-backing-filename"]) !== undefined ? { fullBackingFilename: str(j["full-backing-filename"]) } : {}),
    ...(str(j["backing-filename-format"]) !== undefined
      ? { backingFilenameFormat: str(j["backing-filename-format"]) }
      : {}),
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
  const ms = Math.floor(s.vmClockNs / 1_000_000);
  const clock = `${pad2(Math.floor(ms / 3_600_000))}:${pad2(Math.floor(ms / 60_000) % 60)}:${pad2(Math.floor(ms / 1000) % 60)}.${String(ms % 1000).padStart(3, "0")}`;
  return `${s.id.padEnd(10)}${s.name.padEnd(18)}${formatSize(s.vmStateSize).padStart(7)} ${date} ${clock} ${String(s.icount ?? 0).padStart(10)}`;
}

function renderSpecific(v: ImageJson, indent: string): string[] {
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
    const actual =
      i.fullBackingFilename && i.fullBackingFilename !== i.backingFilename
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
