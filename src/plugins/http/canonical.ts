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

const utf8 = new TextDecoder("utf-8", { fatal: true });
const NON_ASCII = /[\u0080-\u00ff]/;

/**
 * The runtimes decode header bytes as Latin-1; Go hands PHP the raw bytes. Re-read a value with
 * bytes ≥ 0x80 as UTF-8 when it is valid UTF-8 (the common case: "Jörg"); else keep it as is.
 */
export function headerValueText(value: string): string {
  if (!NON_ASCII.test(value)) return value;
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i);
  try {
    return utf8.decode(bytes);
  } catch {
    return value;
  }
}

const utf8Encoder = new TextEncoder();
const ABOVE_ASCII = /[\u0080-\uffff]/;

/** The reverse for response headers: a value's UTF-8 bytes as a Latin-1 string, so they reach the wire unchanged. */
export function wireHeaderValue(value: string): string {
  if (!ABOVE_ASCII.test(value)) return value;
  let out = "";
  for (const byte of utf8Encoder.encode(value)) out += String.fromCharCode(byte);
  return out;
}

/** Bytes → a string with one char per byte (true ISO-8859-1; TextDecoder("latin1") is windows-1252). */
export function bytesToLatin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(i + 4096, bytes.length)));
  }
  return out;
}
