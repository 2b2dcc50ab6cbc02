// The `gzip` middleware: gzip buffered responses when the client accepts it. Streamed responses
// are passed through uncompressed (the web streams compressor cannot flush per chunk, and a
// streamed PHP response must reach the client as it is produced).
import { gzip as gzipAsync, gzipSync } from "node:zlib";
import type { Middleware } from "./middleware.ts";
import { asBody } from "./middleware.ts";

/** Smaller bodies are not worth compressing. */
export const GZIP_MIN_SIZE = 1024;
const SYNC_LIMIT = 64 * 1024;

/** Responses whose body is a live worker stream (never buffered by gzip). */
export const streamedResponses = new WeakSet<Response>();

// Already-compressed media gain nothing.
const INCOMPRESSIBLE = /^(image\/(?!svg)|video\/|audio\/|font\/woff2?|application\/(zip|gzip|x-gzip|x-bzip2|x-7z-compressed|x-rar-compressed|pdf|octet-stream|wasm))/i;

function acceptsGzip(header: string | null): boolean {
  if (header === null) return false;
  for (const part of header.split(",")) {
    const [coding, ...params] = part.trim().split(";");
    if (coding.trim().toLowerCase() !== "gzip" && coding.trim() !== "*") continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

export function gzipMiddleware(): Middleware {
  return (next) => async (request, state) => {
    const response = await next(request, state);
    if (request.method === "HEAD" || !acceptsGzip(request.headers.get("accept-encoding"))) return response;
    if (response.body === null || streamedResponses.has(response)) return response;
    if (response.status < 200 || response.status === 204 || response.status === 206 || response.status === 304) return response;
    const headers = response.headers;
    if (headers.has("content-encoding") || headers.has("content-range")) return response;
    const type = headers.get("content-type") ?? "";
    if (INCOMPRESSIBLE.test(type)) return response;
    const length = Number(headers.get("content-length") ?? NaN);
    if (length < GZIP_MIN_SIZE) return addVary(response);
    const plain = new Uint8Array(await response.arrayBuffer());
    const out = new Headers(headers);
    appendVary(out);
    if (plain.length < GZIP_MIN_SIZE) return new Response(asBody(plain), { status: response.status, statusText: response.statusText, headers: out });
    const packed = plain.length <= SYNC_LIMIT ? gzipSync(plain) : await new Promise<Uint8Array>((ok, fail) => {
      gzipAsync(plain, (error, result) => (error ? fail(error) : ok(result)));
    });
    out.set("Content-Encoding", "gzip");
    out.delete("Content-Length");
    return new Response(asBody(packed), { status: response.status, statusText: response.statusText, headers: out });
  };
}

function appendVary(headers: Headers): void {
  const vary = headers.get("vary");
  if (vary === null) headers.set("Vary", "Accept-Encoding");
  else if (!/accept-encoding/i.test(vary)) headers.set("Vary", `${vary}, Accept-Encoding`);
}

function addVary(response: Response): Response {
  try {
    appendVary(response.headers);
    return response;
  } catch {
    return response; // immutable headers: leave as is
  }
}
