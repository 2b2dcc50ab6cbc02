// The http plugin through the compiled binary (dist/rr-linux-x64, built when missing or stale):
// hello world, a parsed form and a streamed response from real PHP workers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { binaryPath, buildTarget, isUpToDate } from "../scripts/build.ts";
import { type RRHttp, startHttp } from "./http-helpers.ts";

let hello: RRHttp;
let stream: RRHttp;
let inspect: RRHttp;

before(async () => {
  assert.ok(process.platform === "linux" && process.arch === "x64", "the binary tests run on linux-x64");
  if (!isUpToDate("linux-x64")) buildTarget("linux-x64");
  const bin = binaryPath("linux-x64");
  [hello, stream, inspect] = await Promise.all([
    startHttp({ worker: "hello.php", bin, pool: { num_workers: 2 } }),
    startHttp({ worker: "stream.php", bin }),
    startHttp({ worker: "inspect.php", bin, http: { context_codec: "proto" } }),
  ]);
});
after(async () => {
  await Promise.all([hello, stream, inspect].map((rr) => rr?.stop()));
});

describe("http through the compiled binary", () => {
  it("serves hello world", async () => {
    const res = await fetch(hello.url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "Hello, World!");
    assert.match(hello.proc.output, /runtime compiled/);
  });

  it("parses a form with the protobuf context", async () => {
    const res = await fetch(`${inspect.url}/form?q=1`, {
      method: "POST",
      body: "a[]=1&a[]=2&b=x",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    const got = await res.json() as { codec: string; parsedBody: unknown; query: unknown };
    assert.equal(got.codec, "proto");
    assert.deepEqual(got.parsedBody, { a: ["1", "2"], b: "x" });
    assert.deepEqual(got.query, { q: "1" });
  });

  it("streams", async () => {
    const res = await fetch(`${stream.url}/?chunks=3`);
    assert.equal(await res.text(), "chunk0\nchunk1\nchunk2\n");
  });
});
