// Environment expansion of config values, as RoadRunner does it (shared/spec/plugins.md §7.1):
// `$VAR`, `${VAR}` and `${VAR:-default}` (the default is used when VAR is unset OR empty).
// Every string leaf and every string inside a list is expanded; map keys and
// non-string scalars are not.
//
// Deliberate differences from the Go implementation, which users would only hit by accident:
// - Go blanks the WHOLE value when a string mixes `${A:-x}` with a plain `${B}`; we expand each
//   reference on its own.
// - Go expands `$1`, `$$`, `$*` as shell specials (usually to ""); we keep a `$` that is not
//   followed by a variable name literally, so passwords and regexes survive.

export type Env = Record<string, string | undefined>;

const REFERENCE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Expand `$VAR`, `${VAR}` and `${VAR:-default}` in one string. */
export function expandString(text: string, env: Env): string {
  if (!text.includes("$")) return text;
  return text.replace(REFERENCE, (_match, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const value = env[(braced ?? bare) as string];
    if (fallback !== undefined) return value === undefined || value === "" ? expandString(fallback, env) : value;
    return value ?? "";
  });
}

/** Expand every string leaf of a parsed YAML tree (in place for maps and lists); returns the new root. */
export function expandTree(node: unknown, env: Env): unknown {
  if (typeof node === "string") return expandString(node, env);
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = expandTree(node[i], env);
    return node;
  }
  if (isMap(node)) {
    for (const key of Object.keys(node)) node[key] = expandTree(node[key], env);
  }
  return node;
}

export function isMap(node: unknown): node is Record<string, unknown> {
  return typeof node === "object" && node !== null && !Array.isArray(node);
}
