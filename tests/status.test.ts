// The status plugin against a real `rr serve` with an http pool of PHP workers:
// /health and /ready with and without ?plugin=, a busy pool is healthy but not ready,
// a pool whose workers are down is neither, and "shutting down" while rr drains.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getPlatform } from "../src/platform/index.ts";
import { RpcCallError, RpcClient } from "../src/plugins/rpc/client.ts";
import { ProtoReader, ProtoWriter } from "../src/goridge/proto.ts";
import { freePort, makeTmpDir, ROOT, type RunningProcess, startRR, type TmpDir, waitFor } from "./helpers/index.ts";

const APP = join(ROOT, "tests/fixtures/php/rpc-app.php");

interface Entry {
  plugin_name: string;
  error_message: string;
  status_code: number;
}

describe("status plugin", () => {
  let tmp: TmpDir;
  let rr: RunningProcess;
  let httpPort: number;
  let statusPort: number;
  let broken: string;
  let rpcPort: number;

  const status = async (path: string): Promise<{ code: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${statusPort}${path}`);
    return { code: res.status, body: await res.text() };
  };
  const get = async (path: string): Promise<string> => (await fetch(`http://127.0.0.1:${httpPort}${path}`)).text();

  before(async () => {
    tmp = makeTmpDir("rr-status-test-");
    httpPort = await freePort();
    statusPort = await freePort();
    rpcPort = await freePort();
    broken = join(tmp.path, "broken");
    tmp.write(
      ".rr.yaml",
      `version: "3"
server:
  command: "php ${APP}"
  env:
    RR_FIXTURE_BROKEN: "${broken}"
http:
  address: 127.0.0.1:${httpPort}
  pool:
    num_workers: 1
    destroy_timeout: 10s
rpc:
  listen: tcp://127.0.0.1:${rpcPort}
status:
  address: 127.0.0.1:${statusPort}
  unavailable_status_code: 502
logs:
  level: info
`,
    );
    rr = startRR(["serve", "-c", join(tmp.path, ".rr.yaml")]);
    await rr.waitForOutput("rr serve started", 15_000);
  });

  after(async () => {
    if (rr?.running) await rr.kill();
    tmp?.remove();
  });

  it("answers 200 with one entry per plugin on /health and /ready (no ?plugin= means all)", async () => {
    for (const path of ["/health", "/ready", "/health?plugin=http", "/ready?plugin=http"]) {
      const res = await status(path);
      assert.equal(res.code, 200, path);
      assert.deepEqual(JSON.parse(res.body) as Entry[], [{ plugin_name: "http", error_message: "", status_code: 200 }], path);
    }
  });

  it("takes repeated ?plugin= parameters and leaves unknown plugins out", async () => {
    const both = await status("/health?plugin=http&plugin=nope");
    assert.equal(both.code, 200);
    assert.deepEqual((JSON.parse(both.body) as Entry[]).map((e) => e.plugin_name), ["http"]);
    const unknown = await status("/ready?plugin=nope");
    assert.equal(unknown.code, 200);
    assert.deepEqual(JSON.parse(unknown.body), []);
    assert.equal((await status("/nope")).code, 404);
  });

  it("a pool whose only worker is busy is healthy but not ready", async () => {
    const slow = get("/sleep?ms=1200");
    await waitFor(async () => (await status("/ready")).code === 502, 3000, 25, "/ready to turn unavailable");
    const ready = await status("/ready?plugin=http");
    assert.equal(ready.code, 502);
    assert.deepEqual(JSON.parse(ready.body), [{ plugin_name: "http", error_message: "internal server error, see logs", status_code: 502 }]);
    assert.equal((await status("/health")).code, 200);
    assert.equal(await slow, "slept");
    await waitFor(async () => (await status("/ready")).code === 200, 3000, 25, "/ready to recover");
  });

  it("flips /health and /ready to unavailable while no worker can run, and back when one can", async () => {
    writeFileSync(broken, "");
    assert.equal(await get("/exit"), "bye");
    await waitFor(async () => (await status("/health")).code === 502, 5000, 50, "/health to turn unavailable");
    const health = await status("/health");
    assert.deepEqual(JSON.parse(health.body), [{ plugin_name: "http", error_message: "internal server error, see logs", status_code: 502 }]);
    assert.equal((await status("/ready")).code, 502);
    rmSync(broken);
    await waitFor(async () => (await status("/health")).code === 200, 15_000, 100, "/health to recover");
    await waitFor(async () => (await status("/ready")).code === 200, 5000, 50, "/ready to recover");
  });

  it("answers status.Status and status.Ready over RPC (protobuf and JSON)", async () => {
    const client = await RpcClient.connect(getPlatform(), `tcp://127.0.0.1:${rpcPort}`);
    try {
      const reply = await client.callRaw("status.Status", new ProtoWriter().string(1, "http").finish(), 0x80);
      const r = new ProtoReader(reply);
      const fields: Record<number, unknown> = {};
      while (r.next()) fields[r.field] = r.field === 1 ? r.int() : r.string();
      assert.deepEqual(fields, { 1: 200 });
      assert.deepEqual(await client.call("status.Ready", { plugin: "http" }), { code: 200, message: "" });
      await assert.rejects(client.call("status.Ready", { plugin: "nope" }), (e: unknown) => e instanceof RpcCallError && e.message === "no such plugin: nope");
      // A busy single worker: healthy, not ready (the configured unavailable code).
      const slow = get("/sleep?ms=800");
      await waitFor(async () => (await status("/ready")).code === 502, 3000, 25, "the worker to be busy");
      assert.deepEqual(await client.call("status.Ready", { plugin: "http" }), { code: 502, message: "internal server error, see logs" });
      assert.deepEqual(await client.call("status.Status", { plugin: "http" }), { code: 200, message: "" });
      await slow;
    } finally {
      client.close();
    }
  });

  it("says the service is shutting down (health 200, ready 503) while rr drains", async () => {
    const slow = get("/sleep?ms=1500");
    await waitFor(async () => (await status("/ready")).code === 502, 3000, 25, "the slow request to start");
    rr.signal("SIGTERM");
    await waitFor(async () => (await status("/health")).body === "service is shutting down", 3000, 25, "shutdown to show");
    assert.equal((await status("/health")).code, 200);
    const ready = await status("/ready");
    assert.equal(ready.code, 503);
    assert.equal(ready.body, "service is shutting down");
    assert.equal(await slow, "slept");
    const result = await rr.exited;
    assert.equal(result.code, 0, result.stderr);
  });
});
