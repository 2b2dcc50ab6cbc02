// `-o dotted.key=value` overrides (repeatable), applied after env expansion and
// before validation. Values stay strings: the schema coerces them (weak typing, as
// RoadRunner's decoder does), so `-o http.pool.num_workers=4` gives a number.
import { ConfigError } from "../errors.ts";
import { type Env, expandString, isMap } from "./expand.ts";

export interface Override {
  path: string[];
  value: string;
}

/** Parse one `key.path=value`; surrounding matching quotes around the value are stripped. */
export function parseOverride(text: string): Override {
  const eq = text.indexOf("=");
  if (eq < 0) {
    throw new ConfigError(
      `Cannot apply override -o ${text}: expected key.path=value (for example -o http.pool.num_workers=4) but found no "="`,
    );
  }
  const key = text.slice(0, eq).trim();
  let value = text.slice(eq + 1).trim();
  if (key === "") {
    throw new ConfigError(`Cannot apply override -o ${text}: the key before "=" is empty; write it as key.path=value`);
  }
  const path = key.split(".");
  if (path.some((part) => part === "")) {
    throw new ConfigError(`Cannot apply override -o ${text}: the key "${key}" has an empty part; write it as section.key=value`);
  }
  if (value.length >= 2 && /^["'`]$/.test(value[0]) && value[value.length - 1] === value[0]) value = value.slice(1, -1);
  if (value === "") {
    throw new ConfigError(`Cannot apply override -o ${text}: the value after "=" is empty`);
  }
  return { path, value };
}

/** Apply overrides to the parsed tree (the root must be a map). Values are env-expanded too. */
export function applyOverrides(root: Record<string, unknown>, overrides: readonly string[], env: Env): void {
  for (const text of overrides) {
    const { path, value } = parseOverride(text);
    let node: Record<string, unknown> = root;
    for (let i = 0; i < path.length - 1; i++) {
      const next = node[path[i]];
      if (!isMap(next)) {
        if (next !== undefined && next !== null) {
          throw new ConfigError(
            `Cannot apply override -o ${text}: ${path.slice(0, i + 1).join(".")} is not a map, so it has no key "${path[i + 1]}"`,
          );
        }
        node[path[i]] = {};
      }
      node = node[path[i]] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = expandString(value, env);
  }
}
