/**
 * Readable, stable names for the schema's types. QEMU masks most type names as numbers
 * that change between builds, so names are derived from where a type is first reached
 * (command or event, then member path) in a fixed order, and the most-used types get their
 * well-known QAPI names. Pure, no I/O.
 * @module
 */
import type { SchemaIndex, SchemaType } from "./schema.ts";

/**
 * Well-known names, by path: `<command>.args|ret` or `<EVENT>.data`, then `.member`
 * steps, `[]` for an array's element and `|case` for a union branch.
 */
export const WELL_KNOWN_NAMES: readonly (readonly [path: string, name: string])[] = [
  ["query-status.ret", "StatusInfo"],
  ["query-status.ret.status", "RunState"],
  ["SHUTDOWN.data.reason", "ShutdownCause"],
  ["query-vnc.ret", "VncInfo"],
  ["query-vnc.ret.clients[]", "VncClientInfo"],
  ["query-vnc-servers.ret[]", "VncInfo2"],
  ["query-block.ret[]", "BlockInfo"],
  ["query-block.ret[].inserted", "BlockDeviceInfo"],
  ["query-block.ret[].inserted.image", "ImageInfo"],
  ["query-block.ret[].io-status", "BlockDeviceIoStatus"],
  ["query-blockstats.ret[]", "BlockStats"],
  ["query-cpus-fast.ret[]", "CpuInfoFast"],
  ["query-cpus-fast.ret[].target", "SysEmuTarget"],
  ["query-cpus-fast.ret[].props", "CpuInstanceProperties"],
  ["query-version.ret", "VersionInfo"],
  ["query-version.ret.qemu", "VersionTriple"],
  ["query-kvm.ret", "KvmInfo"],
  ["query-name.ret", "NameInfo"],
  ["query-uuid.ret", "UuidInfo"],
  ["query-machines.ret[]", "MachineInfo"],
  ["query-current-machine.ret", "CurrentMachineParams"],
  ["query-target.ret", "TargetInfo"],
  ["query-block-jobs.ret[]", "BlockJobInfo"],
  ["query-jobs.ret[]", "JobInfo"],
  ["query-jobs.ret[].type", "JobType"],
  ["query-jobs.ret[].status", "JobStatus"],
  ["query-migrate.ret", "MigrationInfo"],
  ["query-migrate.ret.status", "MigrationStatus"],
  ["query-migrate-parameters.ret", "MigrationParameters"],
  ["query-migrate-capabilities.ret[]", "MigrationCapabilityStatus"],
  ["query-chardev.ret[]", "ChardevInfo"],
  ["query-pci.ret[]", "PciInfo"],
  ["query-qmp-schema.ret[]", "SchemaInfo"],
  ["query-commands.ret[]", "CommandInfo"],
  ["query-memdev.ret[]", "Memdev"],
  ["query-hotpluggable-cpus.ret[]", "HotpluggableCPU"],
  ["query-iothreads.ret[]", "IOThreadInfo"],
  ["query-balloon.ret", "BalloonInfo"],
  ["query-mice.ret[]", "MouseInfo"],
  ["query-display-options.ret", "DisplayOptions"],
  ["query-memory-devices.ret[]", "MemoryDeviceInfo"],
  ["query-memory-size-summary.ret", "MemoryInfo"],
  ["query-spice.ret", "SpiceInfo"],
  ["query-tpm.ret[]", "TPMInfo"],
  ["query-dump.ret", "DumpQueryResult"],
  ["query-fdsets.ret[]", "FdsetInfo"],
  ["qom-list.ret[]", "ObjectPropertyInfo"],
  ["qom-list-types.ret[]", "ObjectTypeInfo"],
  ["query-cpu-definitions.ret[]", "CpuDefinitionInfo"],
  ["query-named-block-nodes.ret[]", "BlockDeviceInfo"],
  ["query-block-exports.ret[]", "BlockExportInfo"],
  ["query-yank.ret[]", "YankInstance"],
  ["query-stats.ret[]", "StatsResult"],
  ["blockdev-add.args", "BlockdevOptions"],
  ["blockdev-add.args.driver", "BlockdevDriver"],
  ["blockdev-add.args.cache", "BlockdevCacheOptions"],
  ["blockdev-add.args.discard", "BlockdevDiscardOptions"],
  ["blockdev-add.args.detect-zeroes", "BlockdevDetectZeroesOptions"],
  ["blockdev-add.args|qcow2", "BlockdevOptionsQcow2"],
  ["blockdev-add.args|raw", "BlockdevOptionsRaw"],
  ["blockdev-add.args|file", "BlockdevOptionsFile"],
  ["blockdev-add.args|bochs", "BlockdevOptionsGenericFormat"],
  ["blockdev-add.args|null-co", "BlockdevOptionsNull"],
  ["blockdev-add.args|qed", "BlockdevOptionsGenericCOWFormat"],
  ["blockdev-create.args.options", "BlockdevCreateOptions"],
  ["blockdev-create.args.options|qcow2", "BlockdevCreateOptionsQcow2"],
  ["object-add.args", "ObjectOptions"],
  ["object-add.args.qom-type", "ObjectType"],
  ["netdev_add.args", "Netdev"],
  ["netdev_add.args.type", "NetClientDriver"],
  ["chardev-add.args.backend", "ChardevBackend"],
  ["chardev-add.ret", "ChardevReturn"],
  ["screendump.args.format", "ImageFormat"],
  ["send-key.args.keys[]", "KeyValue"],
  ["input-send-event.args.events[]", "InputEvent"],
  ["transaction.args.actions[]", "TransactionAction"],
  ["migrate-set-capabilities.args.capabilities[]", "MigrationCapabilityStatus"],
  ["set_link.args", "SetLinkArguments"],
  ["BLOCK_JOB_COMPLETED.data.type", "JobType"],
  ["BLOCK_IO_ERROR.data.operation", "IoOperationType"],
  ["JOB_STATUS_CHANGE.data.status", "JobStatus"],
  ["GUEST_PANICKED.data.action", "GuestPanicAction"],
  ["GUEST_PANICKED.data.info", "GuestPanicInformation"],
  ["VNC_CONNECTED.data.server", "VncServerInfo"],
  ["VNC_CONNECTED.data.client", "VncBasicInfo"],
  ["WATCHDOG.data.action", "WatchdogAction"],
  ["MIGRATION.data.status", "MigrationStatus"],
];

/** Names that generated types must not take (helpers defined by the generated file). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "QmpCommands",
  "QmpEvents",
  "QmpInt",
  "QmpEventName",
  "QmpCommandName",
  "QEMU_VERSION",
  "QEMU_PACKAGE",
]);

/** `query-block-jobs` -> `QueryBlockJobs`, `BLOCK_JOB_COMPLETED` -> `BlockJobCompleted`. */
export function pascalCase(s: string): string {
  return s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) =>
      w === w.toUpperCase() ? w.charAt(0) + w.slice(1).toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1),
    )
    .join("");
}

/** Whether a type gets its own named declaration (builtins and arrays are written inline). */
export function isNamed(t: SchemaType): boolean {
  return t["meta-type"] === "object" || t["meta-type"] === "enum" || t["meta-type"] === "alternate";
}

/**
 * Assigns a name to every named type (object, enum, alternate), keyed by schema name.
 * Deterministic: depends only on the schema's structure and entry names.
 */
export function assignNames(index: SchemaIndex): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>(RESERVED_NAMES);
  const give = (id: string, name: string) => {
    let n = name;
    for (let i = 2; taken.has(n); i++) n = `${name}${i}`;
    names.set(id, n);
    taken.add(n);
  };

  // The empty object is shared by every command without arguments or result.
  const emptyIds = [...index.types.values()].filter(
    (t) => t["meta-type"] === "object" && t.members.length === 0 && !t.variants,
  );

  for (const [path, name] of WELL_KNOWN_NAMES) {
    const id = resolvePath(index, path);
    if (id === undefined || names.has(id) || taken.has(name)) continue;
    const t = index.types.get(id)!;
    if (!isNamed(t) || emptyIds.includes(t)) continue;
    give(id, name);
  }

  const visited = new Set<string>();
  const visit = (id: string, base: string) => {
    const t = index.types.get(id)!;
    if (t["meta-type"] === "array") return visit(t["element-type"], base);
    if (!isNamed(t) || emptyIds.includes(t) || visited.has(id)) return;
    visited.add(id);
    // Well-known types keep their name; their members are still named after it.
    if (!names.has(id)) give(id, base);
    const own = names.get(id)!;
    if (t["meta-type"] === "object") {
      for (const m of t.members) visit(m.type, own + pascalCase(m.name));
      for (const v of t.variants ?? []) visit(v.type, own + pascalCase(v.case));
    } else if (t["meta-type"] === "alternate") {
      for (const [i, m] of t.members.entries()) visit(m.type, `${own}Alt${i + 1}`);
    }
  };
  for (const c of index.commands) {
    visit(c["arg-type"], `${pascalCase(c.name)}Arguments`);
    visit(c["ret-type"], `${pascalCase(c.name)}Result`);
  }
  for (const e of index.events) visit(e["arg-type"], `${pascalCase(e.name)}EventData`);
  // Anything not reachable from a command or event (QEMU does not emit such types, but be total).
  for (const [id, t] of index.types)
    if (isNamed(t) && !names.has(id) && !emptyIds.includes(t)) give(id, `QmpType${pascalCase(id)}`);
  return names;
}

/** Resolves a well-known path to a schema type id, or undefined when it does not exist here. */
export function resolvePath(index: SchemaIndex, path: string): string | undefined {
  const m = /^([^.|[]+)\.(args|ret|data)(.*)$/.exec(path);
  if (!m) return undefined;
  const [, root, kind, rest] = m;
  let id: string | undefined;
  if (kind === "data") id = index.events.find((e) => e.name === root)?.["arg-type"];
  else {
    const c = index.commands.find((x) => x.name === root);
    id = c ? (kind === "args" ? c["arg-type"] : c["ret-type"]) : undefined;
  }
  const steps = rest!.match(/\[\]|\.[^.|[]+|\|[^.|[]+/g) ?? [];
  for (const step of steps) {
    if (id === undefined) return undefined;
    const t: SchemaType | undefined = index.types.get(id);
    if (!t) return undefined;
    if (step === "[]") id = t["meta-type"] === "array" ? t["element-type"] : undefined;
    else if (step.startsWith("."))
      id = t["meta-type"] === "object" ? t.members.find((x) => x.name === step.slice(1))?.type : undefined;
    else id = t["meta-type"] === "object" ? t.variants?.find((v) => v.case === step.slice(1))?.type : undefined;
  }
  return id;
}
