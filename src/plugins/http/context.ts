// The request context RoadRunner sends to PHP with every HTTP request (spec http.md §2.1),
// encoded as JSON (default; every roadrunner-http version reads it) or as protobuf http.v1.Request.
import { canonicalHeaderName, headerValueText } from "./canonical.ts";

/** Everything the worker learns about one request, except the body. */
export interface RequestContext {
  remoteAddr: string;
  protocol: string;
  method: string;
  uri: string;
  rawQuery: string;
  /** The request's own headers (lower-case names from the runtime); Host and Transfer-Encoding are skipped. */
  headers: Headers;
  /** Headers added by middlewares (headers.request), appended after the request's own. */
  extraHeaders: ReadonlyArray<readonly [string, string]> | null;
  cookies: Map<string, string> | null;
  parsed: boolean;
  /** JSON text of the uploads tree; null when the request was not a parsed multipart form. */
  uploads: string | null;
  /** PSR-7 attributes from middlewares; none are set by the stock ones. */
  attributes: Map<string, string[]> | null;
}

/** A decoded worker reply context. */
export interface ResponseContext {
  status: number;
  /** [name, value] pairs, one per header value, in the worker's order. */
  headers: Array<[string, string]>;
  /** The same headers in the cheapest form the Response constructor takes (built once). */
  init: HeadersInit;
}

/**
 * A plain object when every name is unique (cheapest for the runtimes), else the pairs.
 * `Trailer` is dropped: the runtimes cannot send trailers, so the headers it names go out as
 * ordinary headers and announcing them as trailers would mislead the client.
 */
export function headersInit(pairs: Array<[string, string]>): HeadersInit {
  const out: Record<string, string> = {};
  let list: Array<[string, string]> | null = null;
  for (const pair of pairs) {
    const key = pair[0].toLowerCase();
    if (key === "trailer") continue;
    if (key in out || list !== null) {
      list ??= pairs.filter(([name]) => name.toLowerCase() !== "trailer");
      continue;
    }
    out[key] = pair[1];
  }
  return list ?? out;
}

/** Headers RoadRunner never forwards to PHP: Go keeps Host in r.Host and strips Transfer-Encoding. */
export function isSkippedRequestHeader(lowerName: string): boolean {
  return lowerName === "host" || lowerName === "transfer-encoding";
}

/**
 * The forwarded request headers under canonical names, with middleware-added
 * headers merged into the same name's list (Go's Header.Add).
 */
export function mergedRequestHeaders(c: RequestContext): Map<string, string[]> {
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
  return merged;
}
