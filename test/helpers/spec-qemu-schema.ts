/**
 * QEMU's own description of its options, fetched over a tiny raw QMP exchange (stdio,
 * one JSON object per line), and a validator for the `-blockdev`, `-device`, `-netdev`
 * and `-object` options a compiled argv contains, the way libvirt checks its command
 * lines against the QAPI schema.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { splitOpts } from "../../sdk/compile/parse.ts";

type SchemaEntry = {
  name: string;
  "meta-type": string;
  [k: string]: any;
};

export interface QemuSchema {
  readonly entries: ReadonlyMap<string, SchemaEntry>;
  readonly commands: ReadonlyMap<string, SchemaEntry>;
  /** Non-abstract device type names. */
  readonly devices: ReadonlySet<string>;
  /** device-list-properties per device type: property name -> type name. */
  readonly deviceProps: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** Ask the installed QEMU for its schema and the properties of `deviceTypes`. */
export async function fetchQemuSchema(deviceTypes: readonly string[]): Promise<QemuSchema> {
  const child = spawn("qemu-system-x86_64", ["-machine", "none", "-nodefaults", "-display", "none", "-qmp", "stdio"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async (): Promise<any> => {
      for (;;) {
        const r = await lines.next();
        if (r.done) throw new Error("QEMU closed QMP before answering");
        const msg = JSON.parse(r.value);
        if (!("event" in msg)) return msg;
      }
    };
    const exec = async (execute: string, args?: Record<string, unknown>) => {
      child.stdin!.write(JSON.stringify({ execute, ...(args ? { arguments: args } : {}) }) + "\n");
      const reply = await next();
      if (reply.error) throw new Error(`${execute}: ${reply.error.desc}`);
      return reply.return;
    };
    await next(); // greeting
    await exec("qmp_capabilities");
    const schema: SchemaEntry[] = await exec("query-qmp-schema");
    const types: { name: string; abstract?: boolean }[] = await exec("qom-list-types", {
      implements: "device",
      abstract: false,
    });
    const deviceProps = new Map<string, Map<string, string>>();
    for (const t of new Set(deviceTypes)) {
      if (!types.some((x) => x.name === t)) continue;
      const props: { name: string; type: string }[] = await exec("device-list-properties", { typename: t });
      deviceProps.set(t, new Map(props.map((p) => [p.name, p.type])));
    }
    await exec("quit").catch(() => {});
    const entries = new Map(schema.map((e) => [e.name, e]));
    const commands = new Map(schema.filter((e) => e["meta-type"] === "command").map((e) => [e.name, e]));
    return { entries, commands, devices: new Set(types.map((t) => t.name)), deviceProps };
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Split a QEMU option value (`,,` = literal comma) into its head and key/value pairs: the parser's own splitter. */
export const splitOptionValue = splitOpts;

/** `a.b=1,a.c=2,x=3,x=4` -> `{ a: { b: "1", c: "2" }, x: ["3", "4"] }` (repeated keys become lists). */
function nest(pairs: readonly [string, string][]): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const [key, value] of pairs) {
    const path = key.split(".");
    let o = root;
    for (const p of path.slice(0, -1)) o = o[p] ??= {};
    const last = path[path.length - 1];
    if (last in o) o[last] = Array.isArray(o[last]) ? [...o[last], value] : [o[last], value];
    else o[last] = value;
  }
  return root;
}

class Checker {
  errors: string[] = [];
  constructor(private readonly schema: QemuSchema) {}

  check(typeName: string, value: unknown, where: string): boolean {
    const t = this.schema.entries.get(typeName);
    if (!t) return this.fail(where, `unknown schema type ${typeName}`);
    switch (t["meta-type"]) {
      case "builtin":
        return this.builtin(t["json-type"], value, where);
      case "enum": {
        const values: string[] = t.values ?? t.members?.map((m: { name: string }) => m.name) ?? [];
        return typeof value === "string" && values.includes(value)
          ? true
          : this.fail(where, `${JSON.stringify(value)} is not one of ${values.join("|")}`);
      }
      case "array": {
        const list = Array.isArray(value) ? value : [value];
        return list.every((v, i) =>
          this.check(t["element-type"], this.unwrapString(t["element-type"], v), `${where}[${i}]`),
        );
      }
      case "alternate": {
        for (const m of t.members) {
          const probe = new Checker(this.schema);
          if (probe.check(m.type, value, where)) return true;
        }
        return this.fail(where, `${JSON.stringify(value)} matches no branch of an alternate`);
      }
      case "object":
        return this.object(t, value, where);
      default:
        return this.fail(where, `cannot check meta-type ${t["meta-type"]}`);
    }
  }

  /** Command-line lists of `String` objects are written as plain repeated values. */
  private unwrapString(elementType: string, v: unknown): unknown {
    const e = this.schema.entries.get(elementType);
    if (typeof v === "string" && e?.["meta-type"] === "object" && e.members.length === 1 && e.members[0].name === "str")
      return { str: v };
    return v;
  }

  private object(t: SchemaEntry, value: unknown, where: string): boolean {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return this.fail(where, "expected an object");
    const v = value as Record<string, unknown>;
    const members = new Map<string, { type: string; optional: boolean }>();
    for (const m of t.members) members.set(m.name, { type: m.type, optional: "default" in m });
    if (t.tag !== undefined) {
      const tagValue = v[t.tag];
      const variant = (t.variants ?? []).find((x: { case: string }) => x.case === tagValue);
      if (variant) {
        for (const m of this.schema.entries.get(variant.type)!.members)
          members.set(m.name, { type: m.type, optional: "default" in m });
      }
    }
    let ok = true;
    for (const [k, val] of Object.entries(v)) {
      const m = members.get(k);
      if (!m) ok = this.fail(`${where}.${k}`, "no such member") && false;
      else ok = this.check(m.type, val, `${where}.${k}`) && ok;
    }
    for (const [k, m] of members)
      if (!m.optional && !(k in v)) ok = this.fail(`${where}.${k}`, "required member missing") && false;
    return ok;
  }

  private builtin(jsonType: string, value: unknown, where: string): boolean {
    if (jsonType === "value" || jsonType === "any") return true;
    if (typeof value !== "string") return this.fail(where, `expected a ${jsonType}, got ${JSON.stringify(value)}`);
    const ok =
      jsonType === "string"
        ? true
        : jsonType === "int"
          ? /^-?\d+$/.test(value)
          : jsonType === "number"
            ? !Number.isNaN(Number(value))
            : jsonType === "boolean"
              ? /^(on|off|true|false|yes|no)$/.test(value)
              : jsonType === "null"
                ? value === "null"
                : false;
    return ok || this.fail(where, `${JSON.stringify(value)} is not a ${jsonType}`);
  }

  fail(where: string, message: string): false {
    this.errors.push(`${where}: ${message}`);
    return false;
  }
}

const INT_PROP = /^u?int(8|16|32|64)$|^size$|^uint$|^int$/;

/**
 * Validate every `-blockdev`, `-device`, `-netdev` and `-object` in `argv` against
 * `schema`. Returns the problems found (empty when QEMU's schema accepts everything).
 */
export function validateArgv(schema: QemuSchema, argv: readonly string[]): string[] {
  const errors: string[] = [];
  const nodes = new Set<string>();
  const netdevs = new Set<string>();
  const chardevs = new Set<string>();
  const ids = new Set<string>();
  for (let i = 1; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === "-chardev") chardevs.add(splitOptionValue(v).pairs.find(([k]) => k === "id")?.[1] ?? "");
    if (argv[i] === "-blockdev") nodes.add(splitOptionValue(v).pairs.find(([k]) => k === "node-name")?.[1] ?? "");
    if (argv[i] === "-netdev") netdevs.add(splitOptionValue(v).pairs.find(([k]) => k === "id")?.[1] ?? "");
    if (argv[i] === "-device") {
      const id = splitOptionValue(v).pairs.find(([k]) => k === "id")?.[1];
      if (id) ids.add(id);
    }
  }
  const checkCommandArgs = (command: string, value: Record<string, unknown>, where: string) => {
    const c = new Checker(schema);
    const cmd = schema.commands.get(command);
    if (!cmd) errors.push(`${where}: QEMU has no ${command} command`);
    else c.check(cmd["arg-type"], value, where);
    errors.push(...c.errors);
  };
  for (let i = 1; i < argv.length; i++) {
    const opt = argv[i];
    if (!["-blockdev", "-device", "-netdev", "-object"].includes(opt)) continue;
    const value = argv[++i];
    const where = `${opt} ${value}`;
    const { head, pairs } = splitOptionValue(value);
    if (opt === "-blockdev") {
      if (head !== undefined) errors.push(`${where}: -blockdev has no implied key`);
      checkCommandArgs("blockdev-add", nest(pairs), where);
    } else if (opt === "-netdev") {
      checkCommandArgs("netdev_add", nest([["type", head ?? ""], ...pairs]), where);
    } else if (opt === "-object") {
      checkCommandArgs("object-add", nest([["qom-type", head ?? ""], ...pairs]), where);
    } else {
      const type = head ?? pairs.find(([k]) => k === "driver")?.[1] ?? "";
      const props = schema.deviceProps.get(type);
      if (!schema.devices.has(type) || !props) {
        errors.push(`${where}: QEMU has no device type ${JSON.stringify(type)}`);
        continue;
      }
      for (const [k, val] of pairs) {
        if (k === "id" || k === "driver") continue;
        if (k === "bus") {
          if (!/^[a-z0-9._-]+$/i.test(val)) errors.push(`${where}: bad bus ${val}`);
          continue;
        }
        const pt = props.get(k);
        if (pt === undefined) {
          errors.push(`${where}: ${type} has no property ${JSON.stringify(k)}`);
          continue;
        }
        const bad = (why: string) => errors.push(`${where}: ${k}=${val}: ${why} (type ${pt})`);
        if (pt === "bool" && !/^(on|off|true|false)$/.test(val)) bad("not a boolean");
        else if (INT_PROP.test(pt) && !/^-?\d+$/.test(val)) bad("not an integer");
        else if (pt === "OnOffAuto" && !/^(on|off|auto)$/.test(val)) bad("not on/off/auto");
        else if (pt === "str" && val === "") bad("empty");
        // QEMU 7.2 reports these link properties as plain "str"; check what they refer to.
        else if (k === "drive" && !nodes.has(val)) bad("no -blockdev with this node-name");
        else if (k === "netdev" && !netdevs.has(val)) bad("no -netdev with this id");
        else if (k === "chardev" && !chardevs.has(val)) bad("no -chardev with this id");
      }
    }
  }
  return errors;
}

/** Every device type named by a `-device` in `argvs`. */
export function deviceTypesOf(argvs: readonly (readonly string[])[]): string[] {
  const out = new Set<string>();
  for (const argv of argvs) {
    argv.forEach((a, i) => {
      if (a === "-device") out.add(splitOptionValue(argv[i + 1]).head ?? "");
    });
  }
  return [...out];
}
