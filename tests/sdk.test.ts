// The TypeScript worker SDK, run by the same runtime as the test, driven by rr's worker over all relays.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { SoftJobError, WorkerCrashedError, WorkerStopRequestedError } from "../src/errors.ts";
import { getPlatform } from "../src/platform/index.ts";
import { spawnWorker, type Worker, WorkerState } from "../src/worker/index.ts";
import { CaptureLogger, payload, RelayFixture, type RelayName, text } from "./worker-cases.ts";

const script = fileURLToPath(new URL("./fixtures/ts/echo-worker.ts", import.meta.url));
const command = getPlatform().runtime.name === "bun" ? [process.execPath, script] : [process.execPath, "run", "-A", script];

for (const relayName of ["pipes", "tcp", "unix"] as RelayName[]) {
  describe(`TypeScript SDK worker over ${relayName}`, () => {
    const logger = new CaptureLogger();
    const rf = new RelayFixture(relayName);
    const workers: Worker[] = [];
    let worker: Worker;

    const spawn = async (): Promise<Worker> => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (typeof v === "string") env[k] = v;
      const w = await spawnWorker({
        command,
        env: { ...env, RR_RELAY: rf.address, SDK_TEST: "sdk-env-ok" },
        relay: rf.relay,
        allocateTimeoutMs: 15_000,
        logger,
      });
      workers.push(w);
      return w;
    };

    before(async () => {
      await rf.open(logger);
      worker = await spawn();
    });

    after(async () => {
      for (const w of workers) w.kill();
      await Promise.all(workers.map((w) => w.exited));
      await rf.close();
    });

    it("answers the handshake and echoes requests", async () => {
      assert.equal(worker.state, WorkerState.Ready);
      for (const [ctx, body] of [["c1", "hello"], ["", "x".repeat(200_000)], ["only-ctx", ""]]) {
        const r = await worker.exec(payload(ctx, body, 0x04));
        assert.equal(text(r.context), ctx);
        assert.equal(text(r.body), body);
      }
      const env = JSON.parse(text((await worker.exec(payload("", "env"))).body)) as Record<string, string>;
      assert.equal(env.SDK_TEST, "sdk-env-ok");
      assert.equal(env.RR_RELAY, rf.address);
    });

    it("keeps console.log off the protocol", async () => {
      const r = await worker.exec(payload("c", "log"));
      assert.equal(text(r.body), "log");
      const deadline = Date.now() + 2000;
      const logged = () => logger.entries.some((e) => e.message.includes("console.log goes to stderr") && e.fields?.pid === worker.pid);
      while (!logged() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
      assert.ok(logged());
    });

    it("sends error frames", async () => {
      await assert.rejects(worker.exec(payload("ctx-9", "error")), (e: unknown) => e instanceof SoftJobError && e.message === "ts-boom: ctx-9");
      assert.equal(worker.state, WorkerState.Ready);
    });

    it("streams, and stops streaming on cancel", async () => {
      const r = await worker.exec(payload("hdr", "stream:4"));
      assert.equal(text(r.context), "hdr");
      assert.equal(text(r.body), "part0");
      const parts: string[] = [];
      for await (const p of r.stream!) parts.push(text(p.body));
      assert.deepEqual(parts, ["part1", "part2", "part3", "end"]);

      const long = await worker.exec(payload("", "stream:100000:2"));
      const it = long.stream![Symbol.asyncIterator]();
      await it.next();
      await long.stream!.cancel();
      assert.equal(worker.state, WorkerState.Ready);
      assert.equal(text((await worker.exec(payload("a", "after-cancel"))).body), "after-cancel");
    });

    it("asks to be stopped, then exits on the stop command", async () => {
      const w = await spawn();
      await assert.rejects(w.exec(payload("", "stop")), WorkerStopRequestedError);
      assert.deepEqual(await w.exited, { code: 0, signal: null });
      assert.match(w.stderrTail(), /echo-worker\.ts: stopped/);
    });

    it("reports a crash with the exit code", async () => {
      const w = await spawn();
      await assert.rejects(w.exec(payload("", "crash")), (e: unknown) => e instanceof WorkerCrashedError && /code 3/.test(e.message) && /crashing on purpose/.test(e.message));
    });

    it("stops gracefully", async () => {
      await worker.stop(5000);
      assert.deepEqual(await worker.exited, { code: 0, signal: null });
    });
  });
}
