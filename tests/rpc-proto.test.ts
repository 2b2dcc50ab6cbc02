// The protobuf wire-format reader/writer used by the RPC services (jobs, kv, status), checked
// against encodings from the protobuf documentation and against each other.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ProtoReader, ProtoWriter, WireType } from "../src/goridge/proto.ts";
import { fromHex, hex } from "./rpc-helpers.ts";

describe("protobuf wire format", () => {
  it("writes the documented encodings", () => {
    // https://protobuf.dev/programming-guides/encoding/: field 1 = 150, field 2 = "testing".
    assert.equal(hex(new ProtoWriter().uint(1, 150).finish()), "089601");
    assert.equal(hex(new ProtoWriter().string(2, "testing").finish()), "120774657374696e67");
    // int64 -1 takes ten bytes; sint64 -1 zigzags to 1, -2 to 3, 2 to 4.
    assert.equal(hex(new ProtoWriter().int(1, -1).finish()), "08ffffffffffffffffff01");
    assert.equal(hex(new ProtoWriter().sint(1, -1).sint(1, -2).sint(1, 2).finish()), "080108030804");
    assert.equal(hex(new ProtoWriter().bool(3, true).double(4, 0.5).float(5, 1.5).finish()), "1801" + "21000000000000e03f" + "2d0000c03f");
    // An embedded message: field 3 { field 1 = 150 }.
    assert.equal(hex(new ProtoWriter().message(3, (m) => m.uint(1, 150)).finish()), "1a03089601");
  });

  it("reads what it writes, 64-bit values included, and skips unknown fields", () => {
    const bytes = new ProtoWriter()
      .uint(1, 2 ** 53 - 1)
      .int(2, -123456789012)
      .string(9, "skip me")
      .double(10, 3.25)
      .message(11, (m) => m.string(1, "inner").uint(2, 7))
      .sint(3, -5)
      .bytes(4, new Uint8Array([0, 255]))
      .finish();
    const r = new ProtoReader(bytes);
    const seen: Record<number, unknown> = {};
    while (r.next()) {
      switch (r.field) {
        case 1: seen[1] = r.varint(); break;
        case 2: seen[2] = r.int(); break;
        case 3: seen[3] = r.sint(); break;
        case 4: seen[4] = [...r.bytes()]; break;
        default:
          assert.ok([WireType.LEN, WireType.I64].includes(r.wire as 1 | 2));
          r.skip();
      }
    }
    assert.deepEqual(seen, { 1: 2 ** 53 - 1, 2: -123456789012, 3: -5, 4: [0, 255] });
  });

  it("rejects truncated input with a clear error", () => {
    assert.throws(() => {
      const r = new ProtoReader(fromHex("0a05616263"));
      r.next();
      r.bytes();
    }, /Cannot decode protobuf: length-delimited field runs past the end/);
    assert.throws(() => {
      const r = new ProtoReader(fromHex("08ff"));
      r.next();
      r.varint();
    }, /Cannot decode protobuf: truncated varint/);
    assert.throws(() => new ProtoReader(fromHex("0001")).next(), /field number 0 is invalid/);
  });
});
