// JSON context codec (RoadRunner ≤2023.3 wire format, spec http.md §2.1 and §6.3).
// Hot path: the context is built as one string and encoded to UTF-8 once.
import { canonicalHeaderName, headerValueText, wireHeaderValue } from "./canonical.ts";
import { headersInit, isSkippedRequestHeader, type RequestContext, type ResponseContext } from "./context.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const q = JSON.stringify;

export function encodeJsonContext(c: RequestContext): Uint8Array {
  return encoder.encode(jsonContextText(c));
}

export function jsonContextText(c: RequestContext): string {
  let s = '{"remoteAddr":' + q(c.remoteAddr) + ',"protocol":' + q(c.protocol) + ',"method":' + q(c.method) +
    ',"uri":' + q(c.uri) + ',"headers":{';
  if (c.extraHeaders === null) {
    // forEach is much cheaper than the Headers iterator on both runtimes.
    let h = "";
    c.headers.forEach((value, name) => {
      if (isSkippedRequestHeader(name)) return;
      h += (h === "" ? "" : ",") + quotedHeaderName(name) + ":[" + q(headerValueText(value)) + "]";
    });
    s += h;
  } else {
    s += headersWithExtras(c);
  }
  s += '},"cookies":{';
  if (c.cookies !== null) {
    let first = true;
    for (const [name, value] of c.cookies) {
      s += (first ? "" : ",") + q(name) + ":" + q(value);
      first = false;
    }
  }
  s += '},"rawQuery":' + q(c.rawQuery) + ',"parsed":' + (c.parsed ? "true" : "false") + ',"uploads":' +
    (c.uploads ?? "null") + ',"attributes":{';
  if (c.attributes !== null) {
    let first = true;
    for (const [name, values] of c.attributes) {
      s += (first ? "" : ",") + q(name) + ":" + (values.length === 1 ? q(values[0]) : q(values));
      first = false;
    }
  }
  return s + "}}";
}

const quotedNames = new Map<string, string>();

/** JSON-quoted canonical header name, cached: the same names come with every request. */
function quotedHeaderName(lower: string): string {
  let quoted = quotedNames.get(lower);
  if (quoted === undefined) {
    quoted = q(canonicalHeaderName(lower));
    if (quotedNames.size < 2048) quotedNames.set(lower, quoted);
  }
  return quoted;
}

// Middleware-added headers are merged into the same name's list (Go's Header.Add).
function headersWithExtras(c: RequestContext): string {
  const merged = new Map<string, string[]>();
  for (const [name, value] of c.headers) {
    if (isSkippedRequestHeader(name)) continue;
    merged.set(canonicalHeaderName(name), [headerValueText(value)]);
  }
  for (const [name, value] of c.extraHeaders ?? []) {
    const key = canonicalHeaderName(name.toLowerCase());
    const list = merged.get(key);
    if (list) list.push(value);
    else merged.set(key, [value]);
  }
  let s = "";
  for (const [name, values] of merged) s += (s === "" ? "" : ",") + q(name) + ":" + q(values);
  return s;
}

/**
 * Decode a JSON reply context: {"status":200,"headers":{"Name":["v"]}}.
 * Header values may be a list or a bare string (old PHP libraries send what the app gave them).
 */
export function decodeJsonResponse(bytes: Uint8Array): ResponseContext {
  // Apps answer with a handful of distinct contexts: look them up by their bytes, without decoding.
  const hash = bytes.length <= CACHEABLE_SIZE ? hashBytes(bytes) : -1;
  if (hash >= 0) {
    const hit = responseCache.get(hash);
    if (hit !== undefined && sameBytes(hit.bytes, bytes)) return hit.ctx;
  }
  const text = decoder.decode(bytes);
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error("the worker's response context is not a JSON object");
  }
  const obj = parsed as { status?: unknown; headers?: unknown };
  const status = obj.status === undefined ? 200 : Number(obj.status);
  if (!Number.isInteger(status)) throw new Error(`the worker sent a non-numeric status ${q(obj.status)}`);
  const headers: Array<[string, string]> = [];
  if (obj.headers !== null && typeof obj.headers === "object") {
    for (const [name, value] of Object.entries(obj.headers as Record<string, unknown>)) {
      if (name === "") continue;
      if (Array.isArray(value)) {
        for (const item of value) if (typeof item === "string" || typeof item === "number") headers.push([name, wireHeaderValue(String(item))]);
      } else if (typeof value === "string" || typeof value === "number") {
        headers.push([name, wireHeaderValue(String(value))]);
      }
    }
  }
  const result: ResponseContext = { status, headers, init: headersInit(headers) };
  // Cached results are shared: callers treat them as read-only.
  if (hash >= 0) {
    if (responseCache.size >= RESPONSE_CACHE_LIMIT) responseCache.clear();
    responseCache.set(hash, { bytes: bytes.slice(), ctx: result });
  }
  return result;
}

const CACHEABLE_SIZE = 512;
const RESPONSE_CACHE_LIMIT = 256;
const responseCache = new Map<number, { bytes: Uint8Array; ctx: ResponseContext }>();

/** FNV-1a. */
function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
