/**
 * The shape of QEMU's `query-qmp-schema` reply (QAPI introspection), and an index over it.
 * Pure, no I/O.
 * @module
 */

/** A member of an object type. `default` present (always `null`) means optional. */
export interface SchemaMember {
  readonly name: string;
  readonly type: string;
  readonly default?: unknown;
  readonly features?: readonly string[];
}

/** One entry of the introspection array, any meta-type. */
export type SchemaEntry =
  | { readonly "meta-type": "builtin"; readonly name: string; readonly "json-type": string }
  | {
      readonly "meta-type": "enum";
      readonly name: string;
      readonly values: readonly string[];
      readonly members?: readonly { readonly name: string; readonly features?: readonly string[] }[];
      readonly features?: readonly string[];
    }
  | { readonly "meta-type": "array"; readonly name: string; readonly "element-type": string }
  | {
      readonly "meta-type": "object";
      readonly name: string;
      readonly members: readonly SchemaMember[];
      readonly tag?: string;
      readonly variants?: readonly { readonly case: string; readonly type: string }[];
      readonly features?: readonly string[];
    }
  | {
      readonly "meta-type": "alternate";
      readonly name: string;
      readonly members: readonly { readonly type: string }[];
      readonly features?: readonly string[];
    }
  | {
      readonly "meta-type": "command";
      readonly name: string;
      readonly "arg-type": string;
      readonly "ret-type": string;
      readonly "allow-oob"?: boolean;
      readonly features?: readonly string[];
    }
  | {
      readonly "meta-type": "event";
      readonly name: string;
      readonly "arg-type": string;
      readonly features?: readonly string[];
    };

/** A type entry (anything but command and event). */
export type SchemaType = Exclude<SchemaEntry, { "meta-type": "command" | "event" }>;
/** A command entry. */
export type SchemaCommand = Extract<SchemaEntry, { "meta-type": "command" }>;
/** An event entry. */
export type SchemaEvent = Extract<SchemaEntry, { "meta-type": "event" }>;
/** An object entry. */
export type SchemaObject = Extract<SchemaEntry, { "meta-type": "object" }>;

/** Lookup tables over a schema, commands and events sorted by name for determinism. */
export interface SchemaIndex {
  readonly types: ReadonlyMap<string, SchemaType>;
  readonly commands: readonly SchemaCommand[];
  readonly events: readonly SchemaEvent[];
}

/** Builds the {@link SchemaIndex}; throws on entries that reference missing types. */
export function indexSchema(entries: readonly SchemaEntry[]): SchemaIndex {
  const types = new Map<string, SchemaType>();
  const commands: SchemaCommand[] = [];
  const events: SchemaEvent[] = [];
  for (const e of entries) {
    if (e["meta-type"] === "command") commands.push(e);
    else if (e["meta-type"] === "event") events.push(e);
    else types.set(e.name, e);
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  commands.sort(byName);
  events.sort(byName);
  const need = (name: string, where: string) => {
    if (!types.has(name)) throw new Error(`schema: ${where} refers to unknown type ${name}`);
  };
  for (const c of commands) {
    need(c["arg-type"], c.name);
    need(c["ret-type"], c.name);
  }
  for (const e of events) need(e["arg-type"], e.name);
  return { types, commands, events };
}
