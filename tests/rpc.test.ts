// The goridge RPC server and our TS client over real sockets: framing, codecs, errors,
// concurrency on one connection, the message size bound, unix sockets.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPlatform } from "../src/platform/index.ts";
import { RpcServer } from "../src/plugins/rpc/server.ts";
import { RpcCallError, RpcClient, RpcConnectError } from "../src/plugins/rpc/client.ts";
import { RpcError, type RpcService } from "../src/plugins/rpc/types.ts";
import { encodeFrame } from "../src/goridge/frame.ts";
import { ProtoReader, ProtoWriter } from "../src/goridge/proto.ts";
import { fromHex, hex, memoryLogger, RawConn } from "./rpc-helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

// A real service for the tests: echo, a slow call, a failing call, and a protobuf method.
const testService: RpcService = {
  Echo: (call) => call.json(),
  Slow: async (call) => {
    await new Promise((resolve) => setTimeout(resolve, 150));
    return call.json();
  },
  Fail: () => {
    throw new RpcError("it failed on purpose");
  },
  // Sum of the repeated field 1 (varint); replies {1: sum, 2: "sum"}.
  Sum: (call) => {
    const r = new ProtoReader(call.body);
    let sum = 0;
    while (r.next()) {
      if (r.field === 1) sum += r.varint();
      else r.skip();
    }
    return new ProtoWriter().uint(1, sum).string(2, "sum").finish();
  },
  Bytes: (call) => call.body.slice().reverse(),
};

function request(seq: number, method: string, body: string | Uint8Array, flags = 0x08): Uint8Array {
  const m = enc.encode(method);
  return encodeFrame(flags, 0, [seq, m.length], m, typeof body === "string" ? enc.encode(body) : body);
}

describe("rpc server", () => {
  const platform = getPlatform();
  const logLines: string[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "rr-rpc-test-"));
  let server: RpcServer;
  const clients: RpcClient[] = [];
  const raws: RawConn[] = [];

  before(async () => {
    server = new RpcServer({
      platform,
      logger: memoryLogger(logLines),
      service: (name) => (name === "test" ? testService : undefined),
      maxMessageBytes: 4096,
    });
    await server.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const r of raws) r.close();
    await server.close(0);
    rmSync(tmp, { recursive: true, force: true });
  });

  async function raw(): Promise<RawConn> {
    const r = await RawConn.open(server.address!);
    raws.push(r);
    return r;
  }

  async function client(): Promise<RpcClient> {
    const c = await RpcClient.connect(platform, server.address!);
    clients.push(c);
    return c;
  }

  it("echoes the sequence number, the method and the JSON codec flag (byte for byte)", async () => {
    const r = await raw();
    r.send(request(0xfeedbeef, "test.Echo", '{"a":[1,"x"]}'));
    const frame = await r.readFrame();
    // 0x15 = version 1, 5 header words; flags 0x08; options [seq, len("test.Echo")].
    assert.equal(hex(frame.bytes), hex(encodeFrame(0x08, 0, [0xfeedbeef, 9], enc.encode('test.Echo{"a":[1,"x"]}'))));
    assert.deepEqual(frame.options, [0xfeedbeef, 9]);
    assert.equal(dec.decode(frame.payload), 'test.Echo{"a":[1,"x"]}');
  });

  it("answers an empty argument with the zero value (JSON null)", async () => {
    const r = await raw();
    r.send(request(1, "test.Echo", ""));
    const frame = await r.readFrame();
    assert.equal(dec.decode(frame.payload), "test.Echonull");
  });

  it("sends net/rpc's error texts with codec|ERROR for unknown services, methods and ill-formed names", async () => {
    const r = await raw();
    const cases: Array<[string, string]> = [
      ["test.Unknown", "rpc: can't find method test.Unknown"],
      ["foo.Bar", "rpc: can't find service foo.Bar"],
      ["NoDot", "rpc: service/method request ill-formed: NoDot"],
      ["test.Fail", "it failed on purpose"],
    ];
    for (const [i, [method, text]] of cases.entries()) {
      r.send(request(10 + i, method, "true"));
      const frame = await r.readFrame();
      assert.equal(frame.flags, 0x48, `${method}: flags`);
      assert.deepEqual(frame.options, [10 + i, enc.encode(method).length]);
      assert.equal(dec.decode(frame.payload), method + text);
    }
  });

  it("serves many calls on one connection concurrently and answers the fast one first", async () => {
    const r = await raw();
    // Both requests in one write: the slow one first.
    const both = new Uint8Array([...request(1, "test.Slow", '"slow"'), ...request(2, "test.Echo", '"fast"')]);
    r.send(both);
    const first = await r.readFrame();
    const second = await r.readFrame();
    assert.equal(first.options[0], 2);
    assert.equal(dec.decode(first.payload), 'test.Echo"fast"');
    assert.equal(second.options[0], 1);
    assert.equal(dec.decode(second.payload), 'test.Slow"slow"');
  });

  it("reassembles a request that arrives one byte at a time", async () => {
    const r = await raw();
    const bytes = request(77, "test.Echo", '"split"');
    for (const b of bytes) r.send(new Uint8Array([b]));
    const frame = await r.readFrame();
    assert.equal(frame.options[0], 77);
    assert.equal(dec.decode(frame.payload), 'test.Echo"split"');
  });

  it("matches 200 concurrent client calls by sequence number", async () => {
    const c = await client();
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => c.call<{ i: number }>(i % 7 === 0 ? "test.Slow" : "test.Echo", { i })),
    );
    assert.deepEqual(replies.map((r) => r.i), Array.from({ length: 200 }, (_, i) => i));
  });

  it("speaks protobuf and raw with the caller's codec flag", async () => {
    const r = await raw();
    const body = new ProtoWriter().uint(1, 40).uint(1, 2).string(3, "ignored").finish();
    r.send(request(5, "test.Sum", body, 0x80));
    const frame = await r.readFrame();
    assert.equal(frame.flags, 0x80);
    const reply = new ProtoReader(frame.payload.subarray("test.Sum".length));
    const fields: unknown[] = [];
    while (reply.next()) fields.push(reply.field === 1 ? reply.varint() : reply.string());
    assert.deepEqual(fields, [42, "sum"]);

    r.send(request(6, "test.Bytes", new Uint8Array([1, 2, 3]), 0x04));
    const rawFrame = await r.readFrame();
    assert.equal(rawFrame.flags, 0x04);
    assert.deepEqual([...rawFrame.payload.subarray("test.Bytes".length)], [3, 2, 1]);

    // A JSON method called with protobuf cannot encode its reply: a clear error, flags 0xC0.
    r.send(request(7, "test.Echo", new Uint8Array(0), 0x80));
    const bad = await r.readFrame();
    assert.equal(bad.flags, 0xc0);
    assert.match(dec.decode(bad.payload), /cannot reply with the protobuf codec/);
  });

  it("refuses the gob codec with an error that says to use JSON (flags 0x60)", async () => {
    const r = await raw();
    // What the Go rr CLI sends for informer.List(true) (spec V22), but to our test service.
    r.send(request(0, "test.Echo", fromHex("03020001"), 0x20));
    const frame = await r.readFrame();
    assert.equal(frame.flags, 0x60);
    assert.match(dec.decode(frame.payload), /^test\.Echorpc: the gob codec is not supported by rr; .*JSON codec/);
  });

  it("bounds the message size: an oversized request gets an error reply and the connection is closed", async () => {
    const r = await raw();
    r.send(request(9, "test.Echo", JSON.stringify("x".repeat(5000))));
    const frame = await r.readFrame();
    assert.equal(frame.flags, 0x48);
    assert.equal(frame.options[0], 9);
    assert.match(dec.decode(frame.payload), /^test\.Echorpc: a request of 5011 bytes exceeds the 4096-byte limit/);
    await r.waitClosed();
    assert.ok(logLines.some((l) => l.startsWith("warn") && l.includes("exceeds the 4096-byte limit")));
    // The server keeps serving other connections.
    const c = await client();
    assert.equal(await c.call("test.Echo", "still here"), "still here");
  });

  it("drops a connection that sends a frame without the two RPC options", async () => {
    const r = await raw();
    r.send(encodeFrame(0x08, 0, [1], enc.encode("test.Echo1")));
    await r.waitClosed();
  });

  it("drops a connection that does not speak goridge (e.g. an HTTP request) and says why", async () => {
    const r = await raw();
    r.send(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await r.waitClosed();
    assert.ok(logLines.some((l) => l.startsWith("warn") && l.includes("the client sent bytes that are not a goridge RPC frame")));
  });

  it("client: error replies reject with RpcCallError carrying the server's text", async () => {
    const c = await client();
    await assert.rejects(c.call("foo.Bar", true), (e: unknown) => e instanceof RpcCallError && e.message === "rpc: can't find service foo.Bar");
  });

  it("client: a refused connection says rr is not running and how to start it", async () => {
    const probe = new RpcServer({ platform, logger: memoryLogger(), service: () => undefined });
    await probe.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
    const port = probe.address!.transport === "tcp" ? probe.address!.port : 0;
    await probe.close(0);
    await assert.rejects(RpcClient.connect(platform, `tcp://127.0.0.1:${port}`), (e: unknown) => {
      assert.ok(e instanceof RpcConnectError);
      assert.equal(
        e.message,
        `rr is not running or rpc is not listening on tcp://127.0.0.1:${port} (connection refused): start \`rr serve\` with an \`rpc:\` section`,
      );
      return true;
    });
  });

  it("listens on a unix socket and removes the file when closed", async () => {
    const path = join(tmp, "rpc.sock");
    const unixServer = new RpcServer({ platform, logger: memoryLogger(), service: (n) => (n === "test" ? testService : undefined) });
    await unixServer.listen({ transport: "unix", path });
    try {
      const c = await RpcClient.connect(platform, `unix://${path}`);
      try {
        assert.deepEqual(await c.call("test.Echo", [1, 2]), [1, 2]);
      } finally {
        c.close();
      }
    } finally {
      await unixServer.close(0);
    }
    assert.equal(existsSync(path), false);
  });
});
