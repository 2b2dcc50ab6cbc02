// A small, generic protobuf wire-format reader and writer (varint, 64-bit, length-delimited, 32-bit).
// Enough for the RPC messages rr speaks (jobs, kv, status); no schema, no reflection.
// Integers are JS numbers: exact up to 2^53, which covers every counter and size rr sends.

export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const TWO_32 = 4294967296;

/** Reads fields one by one: `while (r.next()) switch (r.field) { case 1: x = r.string(); break; default: r.skip(); }` */
export class ProtoReader {
  private pos: number;
  private readonly end: number;
  private view: DataView | undefined;
  /** Field number of the current field (after next()). */
  field = 0;
  /** Wire type of the current field. */
  wire = 0;

  constructor(private readonly buf: Uint8Array, start = 0, end = buf.length) {
    this.pos = start;
    this.end = end;
  }

  /** Advance to the next field's tag; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const tag = this.varint();
    this.field = Math.floor(tag / 8);
    this.wire = tag % 8;
    if (this.field === 0) throw new Error("Cannot decode protobuf: field number 0 is invalid");
    return true;
  }

  /** An unsigned varint (uint32/uint64/enum/bool). */
  varint(): number {
    this.readVarint();
    return this.hi * TWO_32 + this.lo;
  }

  /** int64/int32 (two's complement varint). */
  int(): number {
    this.readVarint();
    return (this.hi | 0) * TWO_32 + this.lo;
  }

  // Splits the value into two unsigned 32-bit halves so 64-bit negatives stay exact.
  private lo = 0;
  private hi = 0;
  private readVarint(): void {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error("Cannot decode protobuf: truncated varint");
      const b = this.buf[this.pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
      shift += 7;
    }
    throw new Error("Cannot decode protobuf: varint longer than 10 bytes");
  }

  /** sint32/sint64 (zigzag). */
  sint(): number {
    const u = this.varint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  /** A length-delimited field as a view into the buffer (no copy). */
  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Error("Cannot decode protobuf: length-delimited field runs past the end");
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return textDecoder.decode(this.bytes());
  }

  /** A reader for an embedded message. */
  message(): ProtoReader {
    const b = this.bytes();
    return new ProtoReader(b);
  }

  double(): number {
    const v = this.dataView().getFloat64(this.take(8), true);
    return v;
  }

  float(): number {
    return this.dataView().getFloat32(this.take(4), true);
  }

  fixed64(): number {
    const at = this.take(8);
    const dv = this.dataView();
    return dv.getUint32(at + 4, true) * TWO_32 + dv.getUint32(at, true);
  }

  fixed32(): number {
    return this.dataView().getUint32(this.take(4), true);
  }

  /** Skip the current field's value (unknown fields are ignored, as protobuf requires). */
  skip(): void {
    switch (this.wire) {
      case WireType.VARINT:
        this.varint();
        return;
      case WireType.I64:
        this.take(8);
        return;
      case WireType.LEN:
        this.bytes();
        return;
      case WireType.I32:
        this.take(4);
        return;
      default:
        throw new Error(`Cannot decode protobuf: unsupported wire type ${this.wire} (field ${this.field})`);
    }
  }

  private take(n: number): number {
    if (this.pos + n > this.end) throw new Error("Cannot decode protobuf: fixed-size field runs past the end");
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private dataView(): DataView {
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.view;
  }
}

/** Builds a message. Every method writes the field even when it holds a default value; callers skip defaults if they want proto3's compact form. */
export class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  /** uint32/uint64/enum. */
  uint(field: number, value: number): this {
    this.tag(field, WireType.VARINT);
    this.writeVarint(value);
    return this;
  }

  /** int32/int64: negative values take 10 bytes (two's complement), as protobuf requires. */
  int(field: number, value: number): this {
    this.tag(field, WireType.VARINT);
    if (value >= 0) this.writeVarint(value);
    else this.writeNegativeVarint(value);
    return this;
  }

  /** sint32/sint64 (zigzag). */
  sint(field: number, value: number): this {
    return this.uint(field, value >= 0 ? value * 2 : -value * 2 - 1);
  }

  bool(field: number, value: boolean): this {
    return this.uint(field, value ? 1 : 0);
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LEN);
    this.writeVarint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** An embedded message built by `build`. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const sub = new ProtoWriter();
    build(sub);
    return this.bytes(field, sub.finish());
  }

  double(field: number, value: number): this {
    this.tag(field, WireType.I64);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.len, value, true);
    this.len += 8;
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.I32);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.len, value, true);
    this.len += 4;
    return this;
  }

  /** The encoded message (a view of the internal buffer; the writer must not be reused after this). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private tag(field: number, wire: number): void {
    this.writeVarint(field * 8 + wire);
  }

  private writeVarint(value: number): void {
    if (!Number.isInteger(value) || value < 0) throw new Error(`Cannot encode protobuf: ${value} is not an unsigned integer`);
    this.ensure(10);
    while (value >= 0x80) {
      this.buf[this.len++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.len++] = value;
  }

  private writeNegativeVarint(value: number): void {
    let big = BigInt.asUintN(64, BigInt(Math.trunc(value)));
    this.ensure(10);
    while (big >= 0x80n) {
      this.buf[this.len++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.len++] = Number(big);
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}
