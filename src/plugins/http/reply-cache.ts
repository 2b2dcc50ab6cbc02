// Apps answer with a handful of distinct reply contexts (status + headers). Decoded contexts are
// kept by their bytes, so the hot path neither decodes text nor parses JSON/protobuf again.
// Cached results are shared: callers treat them as read-only.
import type { ResponseContext } from "./context.ts";

const CACHEABLE_SIZE = 512;
const LIMIT = 256;

export class ReplyCache {
  readonly #entries = new Map<number, { bytes: Uint8Array; ctx: ResponseContext }>();

  /** The cached context for these bytes, or the decoded one (then cached). */
  get(bytes: Uint8Array, decode: (bytes: Uint8Array) => ResponseContext): ResponseContext {
    if (bytes.length > CACHEABLE_SIZE) return decode(bytes);
    const hash = hashBytes(bytes);
    const hit = this.#entries.get(hash);
    if (hit !== undefined && sameBytes(hit.bytes, bytes)) return hit.ctx;
    const ctx = decode(bytes);
    if (this.#entries.size >= LIMIT) this.#entries.clear();
    this.#entries.set(hash, { bytes: bytes.slice(), ctx });
    return ctx;
  }
}

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
