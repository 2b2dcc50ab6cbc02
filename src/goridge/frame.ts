// Goridge v1 frame codec (shared/spec/goridge.md §1): encoder and an
// incremental stream decoder. Used for worker traffic (1 option) and RPC (2 options).
import { ScriptNotFoundError } from "../errors.ts";
import { concatBytes } from "../util/bytes.ts";

/** Byte 1: codec and frame type bits. */
export const FLAG = {
  CONTROL: 0x01,
  CODEC_RAW: 0x04,
  CODEC_JSON: 0x08,
  CODEC_MSGPACK: 0x10,
  CODEC_GOB: 0x20,
  ERROR: 0x40,
  CODEC_PROTO: 0x80,
} as const;

/** Byte 10: stream control bits. */
export const STREAM_BITS = { STREAM: 0x01, STOP: 0x02, PING: 0x04, PONG: 0x08 } as const;

/** Fixed header size in bytes (HL = 3). */
export const HEADER_SIZE = 12;
/** Most options a frame may carry (HL = 13), as Go goridge enforces. */
export const MAX_OPTIONS = 10;

export interface Frame {
  flags: number;
  byte10: number;
  options: number[];
  payload: Uint8Array;
}

/** A frame that breaks the protocol: bad CRC, bad header length, truncated stream. */
export class FrameError extends Error {
  override name = "FrameError";
  /** The raw bytes that could not be decoded (header and whatever followed in the same read). */
  readonly printed: Uint8Array;
  constructor(message: string, printed: Uint8Array) {
    super(message);
    this.printed = printed;
  }
}

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32/IEEE (zlib, PHP crc32()) of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Header CRC of the 12 header bytes at `at`. */
function headerCrc(b: Uint8Array, at: number): number {
  return crc32(b, at, at + 6);
}

/** Little-endian u32 at `at`. */
function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

/**
 * Writes the fixed 12-byte header (header length `hl` words, CRC included)
 * into `out` at offset 0; the caller writes the hl - 3 options after it.
 */
function writeFixedHeader(out: Uint8Array, flags: number, byte10: number, hl: number, payloadLength: number): void {
  out[0] = 0x10 | hl;
  out[1] = flags;
  writeU32(out, 2, payloadLength);
  writeU32(out, 6, crc32(out, 0, 6));
  out[10] = byte10;
  out[11] = 0;
}

/**
 * Writes the 12-byte header plus options into `out` at offset 0. The payload
 * length is given because the caller lays the payload out itself.
 */
export function writeHeader(
  out: Uint8Array,
  flags: number,
  byte10: number,
  options: readonly number[],
  payloadLength: number,
): void {
  writeFixedHeader(out, flags, byte10, 3 + options.length, payloadLength);
  for (let i = 0, at = HEADER_SIZE; i < options.length; i++, at += 4) writeU32(out, at, options[i]);
}

/** Encode one frame in a single allocation: header, options, then the payload parts in order. */
export function encodeFrame(
  flags: number,
  byte10: number,
  options: readonly number[],
  ...payloadParts: Uint8Array[]
): Uint8Array {
  if (options.length > MAX_OPTIONS) {
    throw new RangeError(`A goridge frame carries at most ${MAX_OPTIONS} options, got ${options.length}`);
  }
  let payloadLength = 0;
  for (let i = 0; i < payloadParts.length; i++) payloadLength += payloadParts[i].length;
  const headerLength = HEADER_SIZE + 4 * options.length;
  const out = new Uint8Array(headerLength + payloadLength);
  writeHeader(out, flags, byte10, options, payloadLength);
  let at = headerLength;
  for (let i = 0; i < payloadParts.length; i++) {
    out.set(payloadParts[i], at);
    at += payloadParts[i].length;
  }
  return out;
}

/** The 12 bytes PHP prints first when it cannot open the script: "Could not op". */
const COULD_NOT_OP = [0x43, 0x6f, 0x75, 0x6c, 0x64, 0x20, 0x6e, 0x6f, 0x74, 0x20, 0x6f, 0x70];
/** How many bytes of foreign output an error message quotes. */
const MAX_QUOTED = 512;

const textDecoder = new TextDecoder();

/** Render bytes a worker printed where frames belong, for an error message. */
export function describePrinted(bytes: Uint8Array): string {
  const shown = bytes.length > MAX_QUOTED ? bytes.subarray(0, MAX_QUOTED) : bytes;
  const text = JSON.stringify(textDecoder.decode(shown));
  return bytes.length > MAX_QUOTED ? `${text} (and ${bytes.length - MAX_QUOTED} more bytes)` : text;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (i ? " " : "") + bytes[i].toString(16).padStart(2, "0");
  return s;
}

/** The one-line hint every "garbage on stdout" error carries. */
export function stdoutHint(printed: Uint8Array): string {
  return `the worker printed to stdout: ${describePrinted(printed)} — PHP output must go to stderr`;
}

const enum State {
  Header,
  Payload,
  ScriptNotFound,
  Failed,
}

/**
 * Incremental frame decoder. Feed it every chunk read from a worker (push) and
 * tell it when the stream ended (end). Frames split across chunks and several
 * frames per chunk are handled; a payload is copied at most once and not at
 * all when the whole frame lies within one chunk.
 */
export class FrameDecoder {
  private readonly onFrame: (f: Frame) => void;
  private readonly onError: (e: Error) => void;
  private state = State.Header;
  /** Header bytes collected across chunks (12 + at most 10 options). */
  private readonly header = new Uint8Array(HEADER_SIZE + 4 * MAX_OPTIONS);
  private headerFill = 0;
  private pendingFlags = 0;
  private pendingByte10 = 0;
  private pendingOptions: number[] = [];
  private payload: Uint8Array = new Uint8Array(0);
  private payloadFill = 0;
  /** Text PHP printed instead of frames ("Could not open input file: ..."). */
  private foreign: Uint8Array[] = [];

  constructor(onFrame: (f: Frame) => void, onError: (e: Error) => void) {
    this.onFrame = onFrame;
    this.onError = onError;
  }

  /** True while part of a frame has been received but not all of it. */
  get midFrame(): boolean {
    return (this.state === State.Header && this.headerFill > 0) || this.state === State.Payload;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      switch (this.state) {
        case State.Failed:
          return;
        case State.ScriptNotFound:
          this.foreign.push(chunk.subarray(at));
          return;
        case State.Payload: {
          const want = this.payload.length - this.payloadFill;
          const take = n - at < want ? n - at : want;
          this.payload.set(chunk.subarray(at, at + take), this.payloadFill);
          this.payloadFill += take;
          at += take;
          if (this.payloadFill === this.payload.length) this.emitPending();
          break;
        }
        case State.Header:
          at = this.headerFill === 0 ? this.readFast(chunk, at) : this.readHeaderSlow(chunk, at);
          break;
      }
    }
  }

  /** The stream ended (EOF). Reports "Could not open input file" text or a truncated frame. */
  end(): void {
    if (this.state === State.ScriptNotFound) {
      this.state = State.Failed;
      const text = textDecoder.decode(concatBytes(this.foreign)).trim();
      this.foreign = [];
      this.onError(new ScriptNotFoundError(text));
      return;
    }
    if (this.midFrame) {
      const got = this.state === State.Payload ? this.payloadFill : this.headerFill;
      this.state = State.Failed;
      this.onError(
        new FrameError(
          `The worker's output ended in the middle of a frame (${got} bytes of it received)`,
          this.header.slice(0, this.headerFill),
        ),
      );
    }
  }

  // Parse as many frames as lie entirely in chunk[at..]; payloads are subarrays.
  // Falls back to buffering for the incomplete tail. Returns the new offset.
  private readFast(chunk: Uint8Array, at: number): number {
    const n = chunk.length;
    while (n - at >= HEADER_SIZE) {
      if (!this.checkHeader(chunk, at)) return n;
      const hl = chunk[at] & 0x0f;
      const headerLength = hl * 4;
      const payloadLength = (chunk[at + 2] | (chunk[at + 3] << 8) | (chunk[at + 4] << 16) | (chunk[at + 5] << 24)) >>> 0;
      if (n - at < headerLength + payloadLength) break;
      const flags = chunk[at + 1];
      const byte10 = chunk[at + 10];
      const options = readOptions(chunk, at, hl);
      const start = at + headerLength;
      at = start + payloadLength;
      this.onFrame({ flags, byte10, options, payload: chunk.subarray(start, at) });
      if (this.state !== State.Header) return n;
    }
    return at < n ? this.readHeaderSlow(chunk, at) : at;
  }

  // Collect a header that spans chunks, then switch to payload collection.
  private readHeaderSlow(chunk: Uint8Array, at: number): number {
    const n = chunk.length;
    const h = this.header;
    if (this.headerFill < HEADER_SIZE) {
      const take = Math.min(HEADER_SIZE - this.headerFill, n - at);
      h.set(chunk.subarray(at, at + take), this.headerFill);
      this.headerFill += take;
      at += take;
      if (this.headerFill < HEADER_SIZE) return at;
      if (!this.checkHeader(h, 0, chunk.subarray(at))) return n;
    }
    const hl = h[0] & 0x0f;
    const headerLength = hl * 4;
    if (this.headerFill < headerLength) {
      const take = Math.min(headerLength - this.headerFill, n - at);
      h.set(chunk.subarray(at, at + take), this.headerFill);
      this.headerFill += take;
      at += take;
      if (this.headerFill < headerLength) return at;
    }
    const payloadLength = (h[2] | (h[3] << 8) | (h[4] << 16) | (h[5] << 24)) >>> 0;
    this.pendingFlags = h[1];
    this.pendingByte10 = h[10];
    this.pendingOptions = readOptions(h, 0, hl);
    this.headerFill = 0;
    if (payloadLength === 0) {
      this.payload = new Uint8Array(0);
      this.payloadFill = 0;
      this.emitPending();
      return at;
    }
    // The payload lies entirely in this chunk: no copy.
    if (n - at >= payloadLength) {
      const payload = chunk.subarray(at, at + payloadLength);
      this.onFrame({ flags: this.pendingFlags, byte10: this.pendingByte10, options: this.pendingOptions, payload });
      return at + payloadLength;
    }
    this.payload = new Uint8Array(payloadLength);
    this.payloadFill = 0;
    this.state = State.Payload;
    return at;
  }

  private emitPending(): void {
    const frame: Frame = {
      flags: this.pendingFlags,
      byte10: this.pendingByte10,
      options: this.pendingOptions,
      payload: this.payload,
    };
    this.state = State.Header;
    this.payload = new Uint8Array(0);
    this.payloadFill = 0;
    this.onFrame(frame);
  }

  /**
   * Validate the 12 header bytes at b[at]: the "Could not op" case, the CRC, then HL.
   * `rest` is what followed in the same read (quoted in error messages).
   */
  private checkHeader(b: Uint8Array, at: number, rest?: Uint8Array): boolean {
    let couldNotOpen = true;
    for (let i = 0; i < HEADER_SIZE; i++) {
      if (b[at + i] !== COULD_NOT_OP[i]) {
        couldNotOpen = false;
        break;
      }
    }
    const printed = () => (rest ? concatBytes([b.subarray(at, at + HEADER_SIZE), rest]) : b.subarray(at));
    if (couldNotOpen) {
      this.state = State.ScriptNotFound;
      this.headerFill = 0;
      this.foreign = [rest ? concatBytes([b.subarray(at, at + HEADER_SIZE), rest]) : b.subarray(at)];
      return false;
    }
    const expected = (b[at + 6] | (b[at + 7] << 8) | (b[at + 8] << 16) | (b[at + 9] << 24)) >>> 0;
    if (headerCrc(b, at) !== expected) {
      const p = printed();
      this.fail(
        new FrameError(
          "Invalid frame from the worker: header CRC mismatch (validation failed on the message sent to STDOUT, " +
            `see https://docs.roadrunner.dev/error-codes/stdout-crc; header bytes: ${hex(b.subarray(at, at + HEADER_SIZE))}); ` +
            stdoutHint(p),
          p,
        ),
      );
      return false;
    }
    const hl = b[at] & 0x0f;
    if (hl < 3 || hl > 13) {
      const p = printed();
      this.fail(
        new FrameError(
          `Invalid frame from the worker: header length ${hl} words is outside 3..13 ` +
            `(header bytes: ${hex(b.subarray(at, at + HEADER_SIZE))}); ${stdoutHint(p)}`,
          p,
        ),
      );
      return false;
    }
    return true;
  }

  private fail(error: Error): void {
    this.state = State.Failed;
    this.headerFill = 0;
    this.onError(error);
  }
}

function readOptions(b: Uint8Array, at: number, hl: number): number[] {
  const count = hl - 3;
  const options = new Array<number>(count);
  for (let i = 0, p = at + HEADER_SIZE; i < count; i++, p += 4) {
    options[i] = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }
  return options;
}

/**
 * A worker data frame (options [context length], payload context ‖ body) in one
 * allocation, without an options array: this is the exec hot path.
 */
export function encodePayloadFrame(flags: number, byte10: number, context: Uint8Array, body: Uint8Array): Uint8Array {
  const n = context.length;
  const length = n + body.length;
  const out = new Uint8Array(16 + length);
  writeFixedHeader(out, flags, byte10, 4, length);
  writeU32(out, HEADER_SIZE, n);
  out.set(context, 16);
  out.set(body, 16 + n);
  return out;
}
