// Uploaded files (spec http.md §2.4): written to uploads.dir as upload<random>, described to PHP
// as {name, mime, size, error, tmpName}, and deleted once the response has been sent.
import { randomInt } from "node:crypto";
import { unlink, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { mountFormKey, type Tree } from "./form-tree.ts";

/** PHP UPLOAD_ERR_* codes. */
export const UPLOAD_OK = 0;
export const UPLOAD_ERR_NO_TMP_DIR = 6;
export const UPLOAD_ERR_CANT_WRITE = 7;
export const UPLOAD_ERR_EXTENSION = 8;

/** One file as PHP sees it; field order is the JSON key order RoadRunner emits. */
export class UploadedFile {
  constructor(
    public name: string,
    public mime: string,
    public size: number,
    public error: number,
    public tmpName: string,
  ) {}
}

export interface UploadRules {
  dir: string;
  forbid: readonly string[];
  allow: readonly string[];
}

/** Forbid wins; a non-empty allow list admits only its extensions. */
export function isExtensionAllowed(fileName: string, rules: UploadRules): boolean {
  const ext = extname(fileName).toLowerCase();
  if (rules.forbid.includes(ext)) return false;
  return rules.allow.length === 0 || rules.allow.includes(ext);
}

/** Write one file part to the uploads dir; never throws: failures become PHP error codes. */
export async function storeUpload(
  name: string,
  mime: string,
  data: Uint8Array,
  rules: UploadRules,
  created: string[],
): Promise<UploadedFile> {
  const upload = new UploadedFile(name, mime, 0, UPLOAD_OK, "");
  if (!isExtensionAllowed(name, rules)) {
    upload.error = UPLOAD_ERR_EXTENSION;
    return upload;
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const path = join(rules.dir, `upload${randomInt(1_000_000_000, 9_999_999_999)}`);
    try {
      await writeFile(path, data, { flag: "wx", mode: 0o600 });
      created.push(path);
      upload.size = data.length;
      upload.tmpName = path;
      return upload;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EEXIST") continue;
      upload.error = code === "ENOENT" || code === "ENOTDIR" ? UPLOAD_ERR_NO_TMP_DIR : UPLOAD_ERR_CANT_WRITE;
      return upload;
    }
  }
  upload.error = UPLOAD_ERR_CANT_WRITE;
  return upload;
}

const isUpload = (n: unknown): n is UploadedFile => n instanceof UploadedFile;

/** Build the uploads tree: a plain key keeps the first file, "files[]" keeps all. */
export function buildUploadsTree(files: Map<string, UploadedFile[]>): Tree<UploadedFile> {
  const tree: Tree<UploadedFile> = {};
  for (const [key, list] of files) mountFormKey(tree, key, list, (v) => v[0], isUpload, () => false);
  return tree;
}

/** Delete the files written for one request; missing files are fine (PHP may have moved them). */
export async function removeUploads(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((path) => unlink(path).catch(() => {})));
}
