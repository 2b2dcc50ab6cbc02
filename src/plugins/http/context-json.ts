// JSON context codec (RoadRunner ≤2023.3 wire format, spec http.md §2.1 and §6.3).
// Hot path: the context is built as one string and encoded to UTF-8 once.
import { canonicalHeaderName, headerValueText, wireHeaderValue } from "./canonical.ts";
import { headersInit, isSkippedRequestHeader, mergedRequestHeaders, type RequestContext, type ResponseContext } from "./context.ts";
import { ReplyCache } from "./reply-cache.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const q = JSON.stringify;

export function encodeJsonContext(c: RequestContext): Uint8Array {
  return encoder.encode(jsonContextText(c));
}

export function jsonContextText(c: RequestContext): string {
  let s = '{"remoteAddr":' + q(c.remoteAddr) + ',"protocol":' + quotedConstant(c.protocol) + ',"method":' +
    quotedConstant(c.method) + ',"uri":' + quotedUrl(c.uri) + ',"headers":{';
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
  s += '},"rawQuery":' + quotedUrl(c.rawQuery) + ',"parsed":' + (c.parsed ? "true" : "false") + ',"uploads":' +
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
const quotedConstants = new Map<string, string>();

/** Methods and protocols: a few values, quoted once. */
function quotedConstant(text: string): string {
  let quoted = quotedConstants.get(text);
  if (quoted === undefined) {
    quoted = q(text);
    if (quotedConstants.size < 64) quotedConstants.set(text, quoted);
  }
  return quoted;
}

// Deno hands over the request-target as sent (raw quotes, backslashes, UTF-8): always escape.
const quotedUrl = q;

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
  let s = "";
  for (const [name, values] of mergedRequestHeaders(c)) s += (s === "" ? "" : ",") + q(name) + ":" + q(values);
  return s;
}

/**
 * Decode a JSON reply context: {"status":200,"headers":{"Name":["v"]}}.
 * Header values may be a list or a bare string (old PHP libraries send what the app gave them).
 */
export function decodeJsonResponse(bytes: Uint8Array): ResponseContext {
  return jsonReplies.get(bytes, parseJsonResponse);
}

const jsonReplies = new ReplyCache();

function parseJsonResponse(bytes: Uint8Array): ResponseContext {
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
  return { status, headers, init: headersInit(headers) };
}
