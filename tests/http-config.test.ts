// User errors in the http section: rr serve exits 1 with a message that names the key and the
// fix, and no stack trace.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeTmpDir, runRR } from "./helpers/index.ts";
import { HTTP_FIXTURES } from "./http-helpers.ts";

const dir = makeTmpDir("rr-http-config-");
after(() => dir.remove());

async function serveWith(http: Record<string, unknown>): Promise<{ code: number | null; stderr: string }> {
  const file = dir.write(`c${Math.random().toString(36).slice(2)}.yaml`, JSON.stringify({
    version: "3",
    server: { command: `php ${join(HTTP_FIXTURES, "hello.php")}` },
    http: { pool: { num_workers: 1 }, ...http },
  }));
  const { code, stdout, stderr } = await runRR(["serve", "-c", file], { cwd: dir.path, timeoutMs: 20_000 });
  return { code, stderr: stdout + stderr };
}

describe("http config errors", () => {
  it("an address without a port", async () => {
    const { code, stderr } = await serveWith({ address: "8080" });
    assert.equal(code, 1);
    assert.match(stderr, /http\.address "8080" has no port: write it as "host:port"/);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  });

  it("a bad trusted subnet and a bad context codec", async () => {
    const { code, stderr } = await serveWith({ address: "127.0.0.1:0", trusted_subnets: ["10.0.0.0"], context_codec: "xml" });
    assert.equal(code, 1);
    assert.match(stderr, /trusted_subnets/);
    assert.match(stderr, /context_codec/);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  });

  it("a static dir that does not exist", async () => {
    const { code, stderr } = await serveWith({ address: "127.0.0.1:0", middleware: ["static"], static: { dir: "no-such-dir" } });
    assert.equal(code, 1);
    assert.match(stderr, /http\.static\.dir "no-such-dir" is not a directory/);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  });

  it("a missing TLS key file", async () => {
    const { code, stderr } = await serveWith({ address: "127.0.0.1:0", ssl: { address: "127.0.0.1:0", cert: "nope.pem", key: "nope.key" } });
    assert.equal(code, 1);
    assert.match(stderr, /Cannot read http\.ssl\.cert "nope\.pem"/);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  });
});
