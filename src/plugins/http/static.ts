// The `static` middleware (spec http.md §4.3): serves files from static.dir, falls through to
// PHP for extension-less paths, forbidden/not-allowed extensions, missing files and directories.
// A path containing ".." is refused with 403; a resolved path outside static.dir is never served.
import { open, realpath, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import type { HttpStaticConfig } from "../../config/sections/http.ts";
import type { Middleware } from "./middleware.ts";
import { asBody } from "./middleware.ts";
import { contentTypeFor } from "./mime.ts";

// RoadRunner's ETag CRC-32 uses this (reversed-notation) polynomial, not the IEEE one.
const ETAG_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x48d90782 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function etagCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = ETAG_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Strong: "<size>-<crc of content>"; weak: W/"<crc of the file name>" (RoadRunner's format). */
export function computeEtag(weak: boolean, name: string, content: Uint8Array | null): string {
  if (weak) return `W/"${etagCrc32(new TextEncoder().encode(name))}"`;
  return `"${content!.length}-${etagCrc32(content!)}"`;
}

/** Files up to this size are read at once; bigger ones are streamed. */
const BUFFER_LIMIT = 4 * 1024 * 1024;
const STREAM_CHUNK = 256 * 1024;

export function staticMiddleware(config: HttpStaticConfig, baseDir: string): Middleware {
  const root = resolve(baseDir, config.dir);
  let realRoot: string | null = null;
  const etags = new Map<string, { key: string; etag: string }>();
  const responseHeaders = Object.entries(config.response).map(([k, v]) => [k, String(v)] as [string, string]);

  return (next) => async (request, state) => {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") return next(request, state);
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const queryStart = url.indexOf("?", pathStart);
    let path: string;
    try {
      path = decodeURIComponent(url.slice(pathStart, queryStart < 0 ? undefined : queryStart));
    } catch {
      return next(request, state);
    }
    if (path.includes("..")) return new Response("Forbidden: the path contains \"..\"\n", { status: 403 });
    const ext = extname(path).toLowerCase();
    if (ext === "" || config.forbid.includes(ext)) return next(request, state);
    if (config.allow.length > 0 && !config.allow.includes(ext)) return next(request, state);

    const file = join(root, path);
    let info;
    let real: string;
    try {
      info = await stat(file);
      if (!info.isFile()) return next(request, state);
      realRoot ??= await realpath(root);
      real = await realpath(file);
    } catch {
      return next(request, state);
    }
    // Symlinks may point anywhere; only files really under static.dir are served.
    if (!real.startsWith(realRoot + sep)) return new Response("Forbidden\n", { status: 403 });

    const headers = new Headers(responseHeaders);
    headers.set("Content-Type", contentTypeFor(ext));
    headers.set("Last-Modified", info.mtime.toUTCString());
    headers.set("Accept-Ranges", "bytes");
    const size = info.size;
    let content: Uint8Array | null = null;
    if (config.calculate_etag) {
      const key = `${info.mtimeMs}:${size}`;
      let cached = etags.get(real);
      if (cached?.key !== key) {
        if (!config.weak) content = await readWhole(real, size);
        cached = { key, etag: computeEtag(config.weak, path, content) };
        if (etags.size > 10_000) etags.clear();
        etags.set(real, cached);
      }
      headers.set("ETag", cached.etag);
      const inm = request.headers.get("if-none-match");
      if (inm !== null && etagMatches(inm, cached.etag)) return new Response(null, { status: 304, headers });
    }
    const ims = request.headers.get("if-modified-since");
    if (ims !== null && !request.headers.has("if-none-match")) {
      const since = Date.parse(ims);
      if (!Number.isNaN(since) && Math.floor(info.mtimeMs / 1000) * 1000 <= since) {
        return new Response(null, { status: 304, headers });
      }
    }

    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = request.headers.get("range");
    if (range !== null) {
      const parsed = parseRange(range, size);
      if (parsed === "invalid") {
        headers.set("Content-Range", `bytes */${size}`);
        return new Response(null, { status: 416, headers });
      }
      if (parsed !== null) {
        [start, end] = parsed;
        status = 206;
        headers.set("Content-Range", `bytes ${start}-${end}/${size}`);
      }
    }
    const length = Math.max(0, end - start + 1);
    headers.set("Content-Length", String(length));
    if (method === "HEAD") return new Response(null, { status, headers });
    if (length <= BUFFER_LIMIT) {
      content ??= await readWhole(real, size);
      return new Response(asBody(start === 0 && length === content.length ? content : content.subarray(start, end + 1)), { status, headers });
    }
    return new Response(fileStream(real, start, length), { status, headers });
  };
}

async function readWhole(path: string, size: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const out = new Uint8Array(size);
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await handle.read(out, pos, size - pos, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
    }
    return pos === size ? out : out.subarray(0, pos);
  } finally {
    await handle.close();
  }
}

function fileStream(path: string, start: number, length: number): ReadableStream<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  let pos = start;
  const end = start + length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      handle ??= await open(path, "r");
      const buf = new Uint8Array(Math.min(STREAM_CHUNK, end - pos));
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      pos += bytesRead;
      if (bytesRead > 0) controller.enqueue(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
      if (bytesRead === 0 || pos >= end) {
        controller.close();
        await handle.close();
        handle = null;
      }
    },
    async cancel() {
      await handle?.close();
      handle = null;
    },
  });
}

function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === bare);
}

/** One "bytes=a-b" range → [start, end]; null to ignore (multi-range, other units); "invalid" → 416. */
export function parseRange(header: string, size: number): [number, number] | null | "invalid" {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, a, b] = match;
  if (a === "" && b === "") return "invalid";
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) return "invalid";
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(a);
  if (start >= size) return "invalid";
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  return end < start ? "invalid" : [start, end];
}
