// Protobuf context codec: http.v1.Request / http.v1.Response (spec http.md §2.1, §3.1, §6.2, §6.4),
// hand-written for the few fields involved.
//   Request: 1 remote_addr, 2 protocol, 3 method, 4 uri (strings); 5 header, 6 cookies,
//   10 attributes (map<string, HeaderValue>); 7 raw_query string; 8 parsed bool; 9 uploads bytes.
//   HeaderValue: 1 value (repeated bytes).   Response: 1 status int64; 2 headers map.
import { bytesToLatin1 } from "./canonical.ts";
import { ReplyCache } from "./reply-cache.ts";
import { headersInit, mergedRequestHeaders, type RequestContext, type ResponseContext } from "./context.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Field = [tag: number, bytes: Uint8Array];

export function encodeProtoContext(c: RequestContext): Uint8Array {
  const fields: Field[] = [];
  const str = (tag: number, text: string) => {
    if (text !== "") fields.push([tag, encoder.encode(text)]);
  };
  str(0x0a, c.remoteAddr);
  str(0x12, c.protocol);
  str(0x1a, c.method);
  str(0x22, c.uri);
  for (const [name, values] of mergedRequestHeaders(c)) fields.push([0x2a, mapEntry(name, values)]);
  for (const [name, value] of c.cookies ?? []) fields.push([0x32, mapEntry(name, [value])]);
  str(0x3a, c.rawQuery);
  if (c.parsed) fields.push([0x40, new Uint8Array([1])]);
  if (c.uploads !== null) str(0x4a, c.uploads);
  for (const [name, values] of c.attributes ?? []) fields.push([0x52, mapEntry(name, values)]);
  return joinFields(fields);
}

/** map entry: 1 = key, 2 = HeaderValue{1 = repeated value}. */
function mapEntry(key: string, values: readonly string[]): Uint8Array {
  const inner: Field[] = values.map((value) => [0x0a, encoder.encode(value)]);
  const headerValue = joinFields(inner);
  return joinFields([[0x0a, encoder.encode(key)], [0x12, headerValue]]);
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

// Every field here is length-delimited (wire type 2) except tag 0x40 (bool varint, 1 byte, no length).
function joinFields(fields: Field[]): Uint8Array {
  let size = 0;
  for (const [tag, bytes] of fields) {
    size += 1 + bytes.length + ((tag & 7) === 2 ? varintSize(bytes.length) : 0);
  }
  const out = new Uint8Array(size);
  let pos = 0;
  for (const [tag, bytes] of fields) {
    out[pos++] = tag;
    if ((tag & 7) === 2) pos = writeVarint(out, pos, bytes.length);
    out.set(bytes, pos);
    pos += bytes.length;
  }
  return out;
}

/** A cursor over protobuf bytes. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}
  varint(): number {
    let result = 0;
    let mult = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint in the protobuf context");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mult;
      if (b < 0x80) return result;
      mult *= 128;
      if (mult > 2 ** 63) throw new Error("varint too long in the protobuf context");
    }
  }
  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Error("truncated field in the protobuf context");
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType} in the protobuf context`);
  }
}

/** Decode http.v1.Response. int64 status: negative values come as 10-byte varints and are rejected later. */
export function decodeProtoResponse(bytes: Uint8Array): ResponseContext {
  return protoReplies.get(bytes, parseProtoResponse);
}

const protoReplies = new ReplyCache();

function parseProtoResponse(bytes: Uint8Array): ResponseContext {
  const r = new Reader(bytes);
  let status = 0;
  const headers: Array<[string, string]> = [];
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 0) status = r.varint();
    else if (field === 2 && wire === 2) readMapEntry(r.bytes(), headers);
    else r.skip(wire);
  }
  return { status: status === 0 ? 200 : status, headers, init: headersInit(headers) };
}

function readMapEntry(entry: Uint8Array, into: Array<[string, string]>): void {
  const r = new Reader(entry);
  let name = "";
  const values: string[] = [];
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 2) name = decoder.decode(r.bytes());
    else if (field === 2 && wire === 2) {
      const hv = new Reader(r.bytes());
      while (hv.pos < hv.end) {
        const k = hv.varint();
        // Response header values go to the wire byte for byte, as Latin-1 strings (what Headers takes).
        if (k === 0x0a) values.push(bytesToLatin1(hv.bytes()));
        else hv.skip(k & 7);
      }
    } else r.skip(wire);
  }
  if (name === "") return;
  for (const value of values) into.push([name, value]);
}

/** Decoded http.v1.Request, for tests and tools. */
export interface DecodedProtoRequest {
  remoteAddr: string;
  protocol: string;
  method: string;
  uri: string;
  headers: Record<string, string[]>;
  cookies: Record<string, string[]>;
  rawQuery: string;
  parsed: boolean;
  uploads: string;
  attributes: Record<string, string[]>;
}

export function decodeProtoRequest(bytes: Uint8Array): DecodedProtoRequest {
  const out: DecodedProtoRequest = {
    remoteAddr: "",
    protocol: "",
    method: "",
    uri: "",
    headers: {},
    cookies: {},
    rawQuery: "",
    parsed: false,
    uploads: "",
    attributes: {},
  };
  const r = new Reader(bytes);
  const maps: Record<number, Record<string, string[]>> = { 5: out.headers, 6: out.cookies, 10: out.attributes };
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const n = r.varint();
      if (field === 8) out.parsed = n !== 0;
    } else if (wire === 2) {
      const b = r.bytes();
      if (field === 1) out.remoteAddr = decoder.decode(b);
      else if (field === 2) out.protocol = decoder.decode(b);
      else if (field === 3) out.method = decoder.decode(b);
      else if (field === 4) out.uri = decoder.decode(b);
      else if (field === 7) out.rawQuery = decoder.decode(b);
      else if (field === 9) out.uploads = decoder.decode(b);
      else if (maps[field]) {
        const pairs: Array<[string, string]> = [];
        readMapEntry(b, pairs);
        for (const [name, value] of pairs) (maps[field][name] ??= []).push(value);
      }
    } else r.skip(wire);
  }
  return out;
}

/** Encode http.v1.Response (used by tests and the TypeScript worker side). */
export function encodeProtoResponse(status: number, headers: ReadonlyArray<readonly [string, readonly string[]]>): Uint8Array {
  const statusBytes = new Uint8Array(varintSize(status));
  writeVarint(statusBytes, 0, status);
  const fields: Field[] = [[0x08, statusBytes]];
  for (const [name, values] of headers) fields.push([0x12, mapEntry(name, values)]);
  return joinFields(fields);
}
