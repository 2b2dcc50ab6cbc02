// Worker process behaviours over the pipes relay, with real PHP workers, plus
// what only pipes can suffer: garbage printed on stdout.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { SpawnError, WorkerCrashedError } from "../src/errors.ts";
import { spawnWorker, type Worker, WorkerState } from "../src/worker/index.ts";
import { alive, CaptureLogger, defineWorkerSuite, fixture, payload } from "./worker-cases.ts";

defineWorkerSuite("pipes");

describe("worker over pipes: stdout discipline", () => {
  const logger = new CaptureLogger();
  const workers: Worker[] = [];
  const env = (extra: Record<string, string> = {}): Record<string, string> => {
    const e: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (typeof v === "string") e[k] = v;
    return { ...e, RR_RELAY: "pipes", ...extra };
  };

  after(async () => {
    for (const w of workers) w.kill();
    await Promise.all(workers.map((w) => w.exited));
  });

  it("fails the request when the worker prints on stdout, quoting it with the stderr hint", async () => {
    const w = await spawnWorker({ command: ["php", fixture("garbage.php")], env: env(), relay: "pipes", allocateTimeoutMs: 5000, logger });
    workers.push(w);
    await assert.rejects(w.exec(payload("c", "b")), (e: unknown) => {
      assert.ok(e instanceof WorkerCrashedError, String(e));
      assert.match(e.message, /CRC mismatch/);
      assert.ok(
        e.message.includes('the worker printed to stdout: "Hello from stdout\\n') && e.message.includes("— PHP output must go to stderr"),
        e.message,
      );
      return true;
    });
    assert.equal(w.state, WorkerState.Errored);
    const status = await w.exited;
    assert.equal(status.signal, "SIGKILL");
    assert.equal(alive(w.pid), false);
    assert.ok(logger.entries.some((e) => e.level === "error" && e.message.includes("Hello from stdout") && e.fields?.pid === w.pid));
  });

  it("fails the spawn when the worker prints on stdout before its handshake", async () => {
    await assert.rejects(
      spawnWorker({ command: ["php", fixture("garbage.php")], env: env({ GARBAGE_AT: "boot" }), relay: "pipes", allocateTimeoutMs: 5000, logger }),
      (e: unknown) => {
        assert.ok(e instanceof SpawnError, String(e));
        assert.match(e.message, /broke the protocol during the handshake/);
        assert.match(e.message, /the worker printed to stdout: "Hello from stdout\\n.* — PHP output must go to stderr/);
        return true;
      },
    );
  });
});

describe("fixture workers other suites rely on", () => {
  const logger = new CaptureLogger();
  const workers: Worker[] = [];
  const start = async (script: string): Promise<Worker> => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (typeof v === "string") env[k] = v;
    const w = await spawnWorker({ command: ["php", fixture(script)], env: { ...env, RR_RELAY: "pipes" }, relay: "pipes", allocateTimeoutMs: 5000, logger });
    workers.push(w);
    return w;
  };
  after(async () => {
    for (const w of workers) w.kill();
    await Promise.all(workers.map((w) => w.exited));
  });

  it("pid.php answers with its pid; sleep.php sleeps <body> ms; leak.php grows by 10 MB a request", async () => {
    const pidWorker = await start("pid.php");
    assert.equal(new TextDecoder().decode((await pidWorker.exec(payload("c", ""))).body), String(pidWorker.pid));

    const sleeper = await start("sleep.php");
    const started = Date.now();
    const slept = await sleeper.exec(payload("", "150"));
    assert.ok(Date.now() - started >= 140);
    assert.equal(new TextDecoder().decode(slept.body), "slept:150");
    assert.equal(new TextDecoder().decode(slept.context), String(sleeper.pid));

    const leak = await start("leak.php");
    const first = Number(new TextDecoder().decode((await leak.exec(payload("", ""))).body));
    const second = Number(new TextDecoder().decode((await leak.exec(payload("", ""))).body));
    assert.ok(second - first >= 10 * 1024 * 1024, `${first} -> ${second}`);
  });
});
