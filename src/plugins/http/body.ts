// What goes into the body part of the request frame (spec http.md §2.3): raw bytes, or a
// urlencoded/multipart form parsed into the PHP-style JSON tree (parsed: true) plus uploads.
import { buildDataTree } from "./form-tree.ts";
import { asBody } from "./middleware.ts";
import { buildUploadsTree, storeUpload, type UploadedFile, type UploadRules } from "./uploads.ts";

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
 * Parse multipart/form-data with the runtime's own parser. Files are written to the uploads dir;
 * every written path is pushed to `created` (also on failure) so the caller can delete them.
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
    const form = await new Response(asBody(bytes), { headers: { "content-type": contentType } }).formData();
    const pending: Array<Promise<void>> = [];
    for (const [key, value] of form) {
      if (typeof value === "string") {
        const list = fields.get(key);
        if (list) list.push(value);
        else fields.set(key, [value]);
        continue;
      }
      // Keep the order of the parts in each key's list while files are written concurrently.
      let list = files.get(key);
      if (!list) files.set(key, list = []);
      const index = list.length;
      list.push(undefined as unknown as UploadedFile);
      const target = list;
      pending.push(storeUpload(value, rules, created).then((upload) => {
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
