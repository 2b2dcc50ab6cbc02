// Go's textproto.CanonicalMIMEHeaderKey: "x-foo-bar" → "X-Foo-Bar". PHP apps look headers up
// case-insensitively, but $_SERVER/psr7 header names follow what RoadRunner sends.

// Web Request headers arrive lower-cased; the same few names repeat on every request.
const cache = new Map<string, string>();
const CACHE_LIMIT = 2048;

// A header name made only of token characters is canonicalised; anything else is left as is (Go rule).
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function canonicalHeaderName(name: string): string {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  let out = name;
  if (TOKEN_RE.test(name)) {
    out = "";
    let upper = true;
    for (let i = 0; i < name.length; i++) {
      const ch = name[i];
      out += upper ? ch.toUpperCase() : ch.toLowerCase();
      upper = ch === "-";
    }
  }
  if (cache.size < CACHE_LIMIT) cache.set(name, out);
  return out;
}
