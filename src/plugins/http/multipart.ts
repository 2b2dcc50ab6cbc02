// multipart/form-data → parts, as Go's mime/multipart reads them: the part's Content-Type is kept
// exactly as the client sent it, a part with an empty filename is a plain value, and the data
// is a view into the request body (no copy).
import { Buffer } from "node:buffer";
import { bytesToLatin1 } from "./canonical.ts";

export interface MultipartPart {
  name: string;
  /** null for plain values (no filename, or an empty one). */
  filename: string | null;
  /** The part's Content-Type header as sent ("" when absent). */
  contentType: string;
  data: Uint8Array;
}

const utf8 = new TextDecoder();

/** The boundary parameter of a multipart Content-Type, or null. */
export function multipartBoundary(contentType: string): string | null {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : null;
}

export class MultipartError extends Error {
  override name = "MultipartError";
}

export function parseMultipartBody(body: Uint8Array, boundary: string): MultipartPart[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = buf.indexOf(delimiter);
  if (pos < 0) throw new MultipartError("multipart body has no boundary line");
  pos += delimiter.length;
  for (;;) {
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) return parts; // closing "--boundary--"
    // Skip transport padding and the line break after the boundary.
    while (buf[pos] === 0x20 || buf[pos] === 0x09) pos++;
    if (buf[pos] === 0x0d && buf[pos + 1] === 0x0a) pos += 2;
    else throw new MultipartError("malformed multipart boundary line");
    const headerEnd = buf.indexOf("\r\n\r\n", pos);
    if (headerEnd < 0) throw new MultipartError("multipart part headers do not end");
    const headers = parsePartHeaders(bytesToLatin1(body.subarray(pos, headerEnd)));
    const dataStart = headerEnd + 4;
    const dataEnd = buf.indexOf(next, dataStart);
    if (dataEnd < 0) throw new MultipartError("multipart body ends without its closing boundary");
    const disposition = headers.get("content-disposition") ?? "";
    const params = dispositionParams(disposition);
    const name = params.get("name");
    if (name !== undefined) {
      const filename = params.get("filename");
      parts.push({
        name,
        filename: filename === undefined || filename === "" ? null : baseName(filename),
        contentType: headers.get("content-type") ?? "",
        data: body.subarray(dataStart, dataEnd),
      });
    }
    pos = dataEnd + next.length;
  }
}

function parsePartHeaders(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    // Header values are UTF-8 in practice (browsers send raw UTF-8 file names).
    const value = utf8.decode(Uint8Array.from(line.slice(colon + 1).trim(), (c) => c.charCodeAt(0)));
    out.set(line.slice(0, colon).trim().toLowerCase(), value);
  }
  return out;
}

/** form-data; name="a"; filename="b.txt" (quoted strings with backslash escapes; filename* RFC 5987). */
function dispositionParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const key = m[1].toLowerCase();
    let v = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3].trim();
    if (key.endsWith("*")) {
      const ext = /^([^']*)'[^']*'(.*)$/.exec(v);
      try {
        v = ext ? decodeURIComponent(ext[2]) : v;
      } catch {
        continue;
      }
      params.set(key.slice(0, -1), v);
    } else if (!params.has(key)) {
      params.set(key, v);
    }
  }
  return params;
}

function baseName(path: string): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return slash >= 0 ? path.slice(slash + 1) : path;
}
