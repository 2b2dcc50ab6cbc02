// What goes into the body part of the request frame (spec http.md §2.3): raw bytes, or a
// urlencoded/multipart form parsed into the PHP-style JSON tree (parsed: true) plus uploads.
import { buildDataTree } from "./form-tree.ts";
import { MultipartError, multipartBoundary, parseMultipartBody } from "./multipart.ts";
import { buildUploadsTree, storeUpload, UploadedFile, type UploadRules } from "./uploads.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const EMPTY = new Uint8Array(0);
const EMPTY_TREE = encoder.encode("{}");

export type BodyKind = "none" | "raw" | "urlencoded" | "multipart";

export function classifyBody(method: string, contentType: string | null, rawBody: boolean): BodyKind {
  if (method === "HEAD" || method === "OPTIONS") return "none";
  if (rawBody || contentType === null) return "raw";
  if (contentType.includes("application/x-www-form-urlencoded")) return "urlencoded";
  if (contentType.includes("multipart/form-data")) return "multipart";
  return "raw";
}

export interface PreparedBody {
  body: Uint8Array;
  parsed: boolean;
  /** JSON text of the uploads tree (multipart only). */
  uploads: string | null;
}

/** Go fills the post-form only for these methods; others get an empty tree. */
function hasPostForm(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

export function parseUrlencoded(method: string, bytes: Uint8Array): PreparedBody {
  const fields = new Map<string, string[]>();
  if (hasPostForm(method) && bytes.length > 0) {
    for (const [key, value] of new URLSearchParams(decoder.decode(bytes))) {
      const list = fields.get(key);
      if (list) list.push(value);
      else fields.set(key, [value]);
    }
  }
  return { body: treeJson(buildDataTree(fields)), parsed: true, uploads: null };
}

/**
 * Parse multipart/form-data. Files are written to the uploads dir concurrently; every written path
 * is pushed to `created` (also on failure) so the caller can delete them.
 */
export async function parseMultipart(
  method: string,
  contentType: string,
  bytes: Uint8Array,
  rules: UploadRules,
  created: string[],
): Promise<PreparedBody> {
  const fields = new Map<string, string[]>();
  const files = new Map<string, UploadedFile[]>();
  if (hasPostForm(method) && bytes.length > 0) {
    const boundary = multipartBoundary(contentType);
    if (boundary === null) throw new MultipartError("multipart Content-Type has no boundary");
    const pending: Array<Promise<void>> = [];
    for (const part of parseMultipartBody(bytes, boundary)) {
      if (part.filename === null) {
        const value = decoder.decode(part.data);
        const list = fields.get(part.name);
        if (list) list.push(value);
        else fields.set(part.name, [value]);
        continue;
      }
      // Keep each key's files in part order while they are written concurrently.
      let list = files.get(part.name);
      if (!list) files.set(part.name, list = []);
      const index = list.length;
      const target = list;
      target.push(new UploadedFile(part.filename, part.contentType, 0, 0, ""));
      pending.push(storeUpload(part.filename, part.contentType, part.data, rules, created).then((upload) => {
        target[index] = upload;
      }));
    }
    await Promise.all(pending);
  }
  return {
    body: treeJson(buildDataTree(fields)),
    parsed: true,
    uploads: JSON.stringify(buildUploadsTree(files)),
  };
}

function treeJson(tree: object): Uint8Array {
  for (const _ in tree) return encoder.encode(JSON.stringify(tree));
  return EMPTY_TREE;
}
