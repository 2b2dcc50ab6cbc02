// Weak typing, as RoadRunner's config decoder does it: a string where the schema wants a
// number or boolean is converted ("4" → 4, "true" → true), a number where it wants a string
// becomes a string, a single value where it wants a list becomes a one-item list, and an
// empty YAML value (`key:` → null) under an optional key counts as absent. This runs on the
// raw tree before validation, guided by the valibot schema, so `-o http.pool.num_workers=4`
// and `num_workers: ${WORKERS:-2}` both work. It also finds unknown keys.
import type { GenericSchema } from "valibot";
import { isMap } from "./expand.ts";
import { suggest } from "./errors.ts";

/** The parts of a valibot schema object we look at (valibot keeps them public). */
interface SchemaNode {
  type: string;
  wrapped?: SchemaNode;
  entries?: Record<string, SchemaNode>;
  item?: SchemaNode;
  value?: SchemaNode;
  options?: readonly (SchemaNode | string)[];
}

const node = (schema: GenericSchema | SchemaNode): SchemaNode => schema as unknown as SchemaNode;

const WRAPPERS = new Set(["optional", "exact_optional", "nullish", "nullable", "undefinedable", "non_optional"]);
const OBJECTS = new Set(["object", "loose_object", "strict_object", "object_with_rest"]);
const TRUE_WORDS = new Set(["true", "t", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "f", "0", "no", "off"]);

function unwrap(schema: SchemaNode): SchemaNode {
  while (WRAPPERS.has(schema.type) && schema.wrapped) schema = schema.wrapped;
  return schema;
}

/** Whether `value` already has the base type the schema checks first (no coercion needed). */
function accepts(schema: SchemaNode, value: unknown): boolean {
  const s = unwrap(schema);
  switch (s.type) {
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "string":
    case "picklist":
      return typeof value === "string";
    case "array":
      return Array.isArray(value);
    case "record":
      return isMap(value);
    case "union":
      return (s.options ?? []).some((option) => typeof option !== "string" && accepts(option, value));
    case "unknown":
    case "any":
      return true;
    default:
      return OBJECTS.has(s.type) ? isMap(value) : true;
  }
}

/** Returns the coerced value (maps and lists are changed in place). */
export function coerce(schemaIn: GenericSchema | SchemaNode, value: unknown): unknown {
  const schema = unwrap(node(schemaIn));
  if (value === null || value === undefined) return value;
  switch (schema.type) {
    case "number":
      if (typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
      return value;
    case "boolean":
      if (typeof value === "string") {
        const word = value.trim().toLowerCase();
        if (TRUE_WORDS.has(word)) return true;
        if (FALSE_WORDS.has(word)) return false;
      }
      if (typeof value === "number" && (value === 0 || value === 1)) return value === 1;
      return value;
    case "string":
    case "picklist":
      return typeof value === "number" || typeof value === "boolean" ? String(value) : value;
    case "array": {
      const list = Array.isArray(value) ? value : [value];
      if (schema.item) for (let i = 0; i < list.length; i++) list[i] = coerce(schema.item, list[i]);
      return list;
    }
    case "record":
      if (isMap(value) && schema.value) {
        for (const key of Object.keys(value)) value[key] = coerce(schema.value, value[key]);
      }
      return value;
    case "union": {
      if (accepts(schema, value)) {
        // Still coerce inside: e.g. a list of ports in a union of string | list.
        for (const option of schema.options ?? []) {
          if (typeof option !== "string" && accepts(option, value)) return coerce(option, value);
        }
        return value;
      }
      for (const option of schema.options ?? []) {
        if (typeof option === "string") continue;
        const converted = coerce(option, value);
        if (accepts(option, converted)) return converted;
      }
      return value;
    }
    default:
      if (OBJECTS.has(schema.type) && isMap(value) && schema.entries) {
        for (const [key, entry] of Object.entries(schema.entries)) {
          if (!(key in value)) continue;
          // `key:` with nothing after it means "not set" for optional keys; so does "" where a
          // number or boolean is wanted (an unset ${VAR}; Go's weak decoding reads it as zero).
          const optional = WRAPPERS.has(entry.type) && entry.type !== "nullable" && entry.type !== "nullish";
          const scalar = unwrap(entry).type;
          if (optional && (value[key] === null || (value[key] === "" && (scalar === "number" || scalar === "boolean")))) {
            delete value[key];
            continue;
          }
          value[key] = coerce(entry, value[key]);
        }
      }
      return value;
  }
}

/** Calls `report(path, key, known)` for every key the schema does not know (loose objects and records accept any key). */
export function findUnknownKeys(
  schemaIn: GenericSchema | SchemaNode,
  value: unknown,
  path: string,
  report: (path: string, suggestion: string | undefined) => void,
): void {
  const schema = unwrap(node(schemaIn));
  if (schema.type === "union") {
    for (const option of schema.options ?? []) {
      if (typeof option !== "string" && accepts(option, value)) return findUnknownKeys(option, value, path, report);
    }
    return;
  }
  if (Array.isArray(value)) {
    if (schema.type === "array" && schema.item) {
      value.forEach((item, i) => findUnknownKeys(schema.item as SchemaNode, item, `${path}.${i}`, report));
    }
    return;
  }
  if (!isMap(value)) return;
  if (schema.type === "record" && schema.value) {
    for (const key of Object.keys(value)) findUnknownKeys(schema.value, value[key], `${path}.${key}`, report);
    return;
  }
  if (!OBJECTS.has(schema.type) || !schema.entries) return;
  const entries = schema.entries;
  for (const key of Object.keys(value)) {
    const keyPath = path ? `${path}.${key}` : key;
    if (key in entries) findUnknownKeys(entries[key], value[key], keyPath, report);
    else if (schema.type === "object" || schema.type === "strict_object") report(keyPath, suggest(key, Object.keys(entries)));
  }
}
