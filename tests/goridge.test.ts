// Frame codec against the byte vectors of shared/spec/goridge.md §5.1, plus decoder edge cases.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { crc32, encodeFrame, encodePayloadFrame, FLAG, type Frame, FrameDecoder, FrameError, STREAM_BITS } from "../src/goridge/frame.ts";
import { ScriptNotFoundError } from "../src/errors.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const hex = (s: string): Uint8Array => {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
};
const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const utf8 = (s: string): Uint8Array => enc.encode(s);

interface Vector {
  name: string;
  flags: number;
  byte10: number;
  options: number[];
  payload: Uint8Array;
  bytes: string;
}

const V: Vector[] = [
  { name: "V2 empty frame", flags: 0, byte10: 0, options: [], payload: utf8(""), bytes: "13 00 00000000 96d18034 00 00" },
  {
    name: "V3 pid request",
    flags: 0x09,
    byte10: 0,
    options: [],
    payload: utf8('{"pid":1234}'),
    bytes: "13 09 0c000000 5f0c4673 0000 7b22706964223a313233347d",
  },
  {
    name: "V4 pid reply",
    flags: 0x01,
    byte10: 0,
    options: [],
    payload: utf8('{"pid":25526}'),
    bytes: "13 01 0d000000 fb208afb 0000 7b22706964223a32353532367d",
  },
  {
    name: "V5 stop command",
    flags: 0x09,
    byte10: 0,
    options: [],
    payload: utf8('{"stop":true}'),
    bytes: "13 09 0d000000 3a6bfacb 0000 7b2273746f70223a747275657d",
  },
  {
    name: "V6 job raw",
    flags: FLAG.CODEC_RAW,
    byte10: 0,
    options: [3],
    payload: utf8("ctxhello"),
    bytes: "14 04 08000000 016fb119 0000 03000000 637478 68656c6c6f",
  },
  {
    name: "V7 job codec 0",
    flags: 0,
    byte10: 0,
    options: [3],
    payload: utf8("ctxhello"),
    bytes: "14 00 08000000 c1c931ec 0000 03000000 63747868656c6c6f",
  },
  {
    name: "V8 job proto",
    flags: FLAG.CODEC_PROTO,
    byte10: 0,
    options: [0],
    payload: utf8("body"),
    bytes: "14 80 04000000 ebc60117 0000 00000000 626f6479",
  },
  {
    name: "V9 PHP response",
    flags: 0,
    byte10: 0,
    options: [15],
    payload: utf8('ctx-was:{"k":1}echo:hello'),
    bytes: "14 00 19000000 3bf99404 0000 0f000000 6374782d7761733a7b226b223a317d 6563686f3a68656c6c6f",
  },
  {
    name: "V10 error frame",
    flags: FLAG.ERROR,
    byte10: 0,
    options: [],
    payload: utf8("boom: something failed"),
    bytes: "13 40 16000000 9c810119 0000 626f6f6d3a20736f6d657468696e67206661696c6564",
  },
  {
    name: "V11 stream first frame",
    flags: 0,
    byte10: STREAM_BITS.STREAM,
    options: [3],
    payload: utf8("hdrchunk0"),
    bytes: "14 00 09000000 a4ae8d54 01 00 03000000 686472 6368756e6b30",
  },
  {
    name: "V12 stream frame with PING",
    flags: 0,
    byte10: STREAM_BITS.STREAM | STREAM_BITS.PING,
    options: [0],
    payload: utf8("chunk5"),
    bytes: "14 00 06000000 f2beee0c 05 00 00000000 6368756e6b35",
  },
  { name: "V13 STOP", flags: 0, byte10: STREAM_BITS.STOP, options: [], payload: utf8(""), bytes: "13 00 00000000 96d18034 02 00" },
  { name: "V14 PONG", flags: 0, byte10: STREAM_BITS.PONG, options: [], payload: utf8(""), bytes: "13 00 00000000 96d18034 08 00" },
  {
    name: "V15 worker-initiated stop",
    flags: 0,
    byte10: 0,
    options: [13],
    payload: utf8('{"stop":true}'),
    bytes: "14 00 0d000000 f339efdb 0000 0d000000 7b2273746f70223a747275657d",
  },
  { name: "V16 final empty frame", flags: 0, byte10: 0, options: [0], payload: utf8(""), bytes: "14 00 00000000 2ee18529 0000 00000000" },
  {
    name: "V17 RPC request (2 options)",
    flags: FLAG.CODEC_JSON,
    byte10: 0,
    options: [1, 16],
    payload: utf8('informer.Workers"http"'),
    bytes: "15 08 16000000 0971dba7 0000 01000000 10000000 696e666f726d65722e576f726b657273 226874747022",
  },
];

function decodeAll(chunks: Uint8Array[]): { frames: Frame[]; errors: Error[] } {
  const frames: Frame[] = [];
  const errors: Error[] = [];
  const d = new FrameDecoder((f) => frames.push({ ...f, payload: f.payload.slice() }), (e) => errors.push(e));
  for (const c of chunks) d.push(c);
  d.end();
  return { frames, errors };
}

function assertFrame(got: Frame, v: Vector): void {
  assert.equal(got.flags, v.flags, `${v.name}: flags`);
  assert.equal(got.byte10, v.byte10, `${v.name}: byte10`);
  assert.deepEqual(got.options, v.options, `${v.name}: options`);
  assert.equal(toHex(got.payload), toHex(v.payload), `${v.name}: payload`);
}

describe("goridge frame codec", () => {
  it("V1: crc32 check value", () => {
    assert.equal(crc32(utf8("123456789")).toString(16), "cbf43926");
    assert.equal(crc32(utf8("xx123456789yy"), 2, 11), 0xcbf43926);
  });

  for (const v of V) {
    it(`${v.name}: encodes to the reference bytes`, () => {
      assert.equal(toHex(encodeFrame(v.flags, v.byte10, v.options, v.payload)), toHex(hex(v.bytes)));
    });
    it(`${v.name}: decodes from the reference bytes`, () => {
      const { frames, errors } = decodeAll([hex(v.bytes)]);
      assert.deepEqual(errors, []);
      assert.equal(frames.length, 1);
      assertFrame(frames[0], v);
    });
  }

  it("encodes payload parts back to back (context ‖ body)", () => {
    const a = encodeFrame(0, 0, [15], utf8('ctx-was:{"k":1}'), utf8("echo:hello"));
    assert.equal(toHex(a), toHex(hex(V.find((v) => v.name.startsWith("V9"))!.bytes)));
  });

  it("encodePayloadFrame matches the worker data vectors (V6-V9, V11, V12, V15, V16)", () => {
    for (const v of V.filter((x) => x.options.length === 1)) {
      const split = v.options[0];
      const got = encodePayloadFrame(v.flags, v.byte10, v.payload.subarray(0, split), v.payload.subarray(split));
      assert.equal(toHex(got), toHex(hex(v.bytes)), v.name);
    }
  });

  it("decodes every vector fed one byte at a time", () => {
    const all = V.map((v) => hex(v.bytes));
    const bytes: Uint8Array[] = [];
    for (const f of all) for (let i = 0; i < f.length; i++) bytes.push(f.subarray(i, i + 1));
    const { frames, errors } = decodeAll(bytes);
    assert.deepEqual(errors, []);
    assert.equal(frames.length, V.length);
    V.forEach((v, i) => assertFrame(frames[i], v));
  });

  it("decodes all vectors from one chunk, and from chunks split at every offset", () => {
    const all = V.map((v) => hex(v.bytes));
    const total = all.reduce((n, b) => n + b.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const b of all) {
      joined.set(b, at);
      at += b.length;
    }
    const one = decodeAll([joined]);
    assert.equal(one.frames.length, V.length);
    V.forEach((v, i) => assertFrame(one.frames[i], v));
    for (let cut = 1; cut < total; cut += 7) {
      const { frames, errors } = decodeAll([joined.subarray(0, cut), joined.subarray(cut)]);
      assert.deepEqual(errors, []);
      assert.equal(frames.length, V.length, `cut at ${cut}`);
      V.forEach((v, i) => assertFrame(frames[i], v));
    }
  });

  it("hands out payloads without copying when a frame lies within one chunk", () => {
    const chunk = encodeFrame(0, 0, [3], utf8("ctxhello"));
    let payload: Uint8Array | undefined;
    new FrameDecoder((f) => (payload = f.payload), (e) => assert.fail(e)).push(chunk);
    assert.ok(payload);
    assert.equal(payload.buffer, chunk.buffer);
    assert.equal(payload.byteOffset, 16);
  });

  it("reassembles a large payload split across many chunks", () => {
    const body = new Uint8Array(300_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const frame = encodeFrame(FLAG.CODEC_RAW, 0, [0], body);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < frame.length; i += 65536) chunks.push(frame.subarray(i, i + 65536));
    const { frames, errors } = decodeAll(chunks);
    assert.deepEqual(errors, []);
    assert.equal(frames.length, 1);
    assert.deepEqual(frames[0].payload, body);
  });

  it("rejects a header length below 3 or above 13", () => {
    for (const hl of [0, 1, 2, 14, 15]) {
      const bad = encodeFrame(0, 0, []);
      bad[0] = 0x10 | hl;
      const crc = crc32(bad, 0, 6);
      bad[6] = crc & 0xff;
      bad[7] = (crc >>> 8) & 0xff;
      bad[8] = (crc >>> 16) & 0xff;
      bad[9] = crc >>> 24;
      const { frames, errors } = decodeAll([bad]);
      assert.equal(frames.length, 0);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof FrameError);
      assert.match(errors[0].message, new RegExp(`header length ${hl} words is outside 3\\.\\.13`));
    }
    for (const hl of [3, 13]) {
      const options = new Array<number>(hl - 3).fill(7);
      const { frames, errors } = decodeAll([encodeFrame(0, 0, options, utf8("x"))]);
      assert.deepEqual(errors, []);
      assert.deepEqual(frames[0].options, options);
    }
  });

  it("reports a CRC mismatch with the printed bytes and the stderr hint", () => {
    const garbage = utf8("Hello from stdout\n");
    const { frames, errors } = decodeAll([garbage, encodeFrame(0, 0, [0], utf8("ok"))]);
    assert.equal(frames.length, 0, "nothing is decoded after a broken frame");
    assert.equal(errors.length, 1);
    const e = errors[0] as FrameError;
    assert.ok(e instanceof FrameError);
    assert.match(e.message, /CRC mismatch/);
    assert.match(e.message, /stdout-crc/);
    assert.ok(e.message.includes('the worker printed to stdout: "Hello from stdout\\n" — PHP output must go to stderr'), e.message);
    assert.equal(dec.decode(e.printed), "Hello from stdout\n");
  });

  it("reports a CRC mismatch even when the garbage arrives byte by byte", () => {
    const garbage = utf8("Warning: something\n");
    const errors: Error[] = [];
    const d = new FrameDecoder(() => assert.fail("no frame expected"), (e) => errors.push(e));
    for (let i = 0; i < garbage.length; i++) d.push(garbage.subarray(i, i + 1));
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /the worker printed to stdout: "Warning: so/);
  });

  it("flips one bit of the length and fails the CRC", () => {
    const frame = encodeFrame(0, 0, [3], utf8("ctxhello"));
    frame[2] ^= 1;
    const { errors } = decodeAll([frame]);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /CRC mismatch/);
  });

  it("reports PHP's 'Could not open input file' as ScriptNotFoundError with the whole text", () => {
    const text = "Could not open input file: /nope/worker.php\n";
    const b = utf8(text);
    const { frames, errors } = decodeAll([b.subarray(0, 5), b.subarray(5, 20), b.subarray(20)]);
    assert.equal(frames.length, 0);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof ScriptNotFoundError);
    assert.match(errors[0].message, /^Could not open input file: \/nope\/worker\.php/);
  });

  it("reports a stream that ends in the middle of a frame", () => {
    const frame = encodeFrame(0, 0, [3], utf8("ctxhello"));
    const { frames, errors } = decodeAll([frame.subarray(0, 14)]);
    assert.equal(frames.length, 0);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /ended in the middle of a frame/);
    assert.deepEqual(decodeAll([frame.subarray(0, 0)]).errors, []);
  });

  it("refuses more than 10 options when encoding", () => {
    assert.throws(() => encodeFrame(0, 0, new Array<number>(11).fill(0)), /at most 10 options/);
  });
});
