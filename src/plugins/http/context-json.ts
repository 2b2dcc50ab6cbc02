// JSON context codec (RoadRunner ≤2023.3 wire format, spec http.md §2.1 and §6.3).
// Hot path: the context is built as one string and encoded to UTF-8 once.
import { canonicalHeaderName } from "./canonical.ts";
import { isSkippedRequestHeader, type RequestContext, type ResponseContext } from "./context.ts";

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
    let first = true;
    for (const [name, value] of c.headers) {
      if (isSkippedRequestHeader(name)) continue;
      s += (first ? "" : ",") + q(canonicalHeaderName(name)) + ":[" + q(value) + "]";
      first = false;
    }
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

// Middleware-added headers are merged into the same name's list (Go's Header.Add).
function headersWithExtras(c: RequestContext): string {
  const merged = new Map<string, string[]>();
  for (const [name, value] of c.headers) {
    if (isSkippedRequestHeader(name)) continue;
    merged.set(canonicalHeaderName(name), [value]);
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
  const text = decoder.decode(bytes);
  const cached = responseCache.get(text);
  if (cached !== undefined) return cached;
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
        for (const item of value) if (typeof item === "string" || typeof item === "number") headers.push([name, String(item)]);
      } else if (typeof value === "string" || typeof value === "number") {
        headers.push([name, String(value)]);
      }
    }
  }
  const result: ResponseContext = { status, headers };
  // Apps answer with a handful of distinct contexts; reuse their decoded form (treated as read-only).
  if (responseCache.size >= RESPONSE_CACHE_LIMIT) responseCache.clear();
  if (text.length <= 512) responseCache.set(text, result);
  return result;
}

const responseCache = new Map<string, ResponseContext>();
const RESPONSE_CACHE_LIMIT = 256;
