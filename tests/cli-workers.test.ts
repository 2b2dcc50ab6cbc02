// `rr workers` and `rr reset` as subprocesses against a real `rr serve` (http pool of two PHP
// workers, rpc on a free port), informer/resetter over RPC from TS and from PHP (inside a
// worker, via RR_RPC), and the errors when rr is not running or rpc is not configured.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { getPlatform } from "../src/platform/index.ts";
import { RpcClient } from "../src/plugins/rpc/client.ts";
import type { InformerWorker } from "../src/plugins/informer.ts";
import { freePort, makeTmpDir, ROOT, runRR, type RunningProcess, startRR, type TmpDir, waitFor } from "./helpers/index.ts";
import { hex, RawConn } from "./rpc-helpers.ts";

const APP = join(ROOT, "tests/fixtures/php/rpc-app.php");
const PHP_CLIENT = join(ROOT, "tests/fixtures/php/rpc-client.php");

function php(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("php", args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`php failed: ${error.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
}

describe("rr workers / rr reset", () => {
  let tmp: TmpDir;
  let rr: RunningProcess;
  let config: string;
  let rpcPort: number;
  let httpPort: number;
  let client: RpcClient;

  const workers = async () => (await client.call<{ workers: InformerWorker[] }>("informer.Workers", "http")).workers;

  before(async () => {
    tmp = makeTmpDir("rr-cli-workers-test-");
    rpcPort = await freePort();
    httpPort = await freePort();
    config = tmp.write(
      ".rr.yaml",
      `version: "3"
server:
  command: "php ${APP}"
http:
  address: 127.0.0.1:${httpPort}
  pool:
    num_workers: 2
rpc:
  listen: tcp://127.0.0.1:${rpcPort}
logs:
  level: warn
`,
    );
    rr = startRR(["serve", "-c", config, "-o", "logs.level=info"]);
    await rr.waitForOutput("rr serve started", 15_000);
    client = await RpcClient.connect(getPlatform(), `tcp://127.0.0.1:${rpcPort}`);
  });

  after(async () => {
    client?.close();
    if (rr?.running) await rr.kill();
    tmp?.remove();
  });

  it("informer.List answers exactly the bytes of spec vector V18 for an http-only rr", async () => {
    const raw = await RawConn.open({ transport: "tcp", hostname: "127.0.0.1", port: rpcPort });
    try {
      // PHP's request for informer.List(true), seq 1.
      raw.send(new Uint8Array([
        0x15, 0x08, 0x11, 0, 0, 0, 0xb0, 0x49, 0x0c, 0x3a, 0, 0, 1, 0, 0, 0, 0x0d, 0, 0, 0,
        ...new TextEncoder().encode("informer.Listtrue"),
      ]));
      const frame = await raw.readFrame();
      assert.equal(hex(frame.bytes), "150815000000e7de6eb50000010000000d000000" + hex(new TextEncoder().encode('informer.List["http"]')));
    } finally {
      raw.close();
    }
  });

  it("informer.Workers reports both workers with RoadRunner's JSON keys", async () => {
    const list = await workers();
    assert.equal(list.length, 2);
    for (const w of list) {
      assert.deepEqual(Object.keys(w), ["pid", "status", "numExecs", "created", "memoryUsage", "CPUPercent", "command", "statusStr"]);
      assert.equal(w.statusStr, "ready");
      assert.equal(w.status, 1);
      assert.ok(w.memoryUsage > 1_000_000, "RSS of a PHP process");
      // Unix nanoseconds, within the last minute.
      assert.ok(Math.abs(w.created / 1e6 - Date.now()) < 60_000);
    }
  });

  it("rr workers prints a table per plugin with every worker's pid", async () => {
    const pids = (await workers()).map((w) => w.pid);
    for (const args of [["workers"], ["workers", "http"]]) {
      const result = await runRR([...args, "-c", config]);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.split("\n");
      assert.equal(lines[0], "Workers of [http]:");
      assert.match(lines[2], /^\| PID +\| Status +\| Execs +\| Memory +\| CPU% +\| Uptime +\|$/);
      const rows = lines.filter((l) => /^\| +\d+ \|/.test(l));
      assert.equal(rows.length, 2, result.stdout);
      for (const pid of pids) assert.ok(rows.some((r) => r.includes(` ${pid} | ready`)), `pid ${pid} in\n${result.stdout}`);
      for (const row of rows) assert.match(row, /\| +\d+ \| ready +\| +\d+ \| +[\d.]+ MiB \| +\d+\.\d\d \| \d+s +\|$/);
    }
  });

  it("rr workers names a plugin it does not know", async () => {
    const result = await runRR(["workers", "nope", "-c", config]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Workers of \[nope\]:\n {2}no such plugin: nope/);
  });

  it("rr workers -i redraws every second until Ctrl+C", async () => {
    const live = startRR(["workers", "-i", "-c", config]);
    try {
      await waitFor(() => (live.stdout.match(/Workers of \[http\]/g) ?? []).length >= 2, 10_000, 50, "two redraws");
      assert.ok(live.stdout.includes("\x1b[H\x1b[2J"), "clears the screen between redraws");
      live.signal("SIGINT");
      const result = await live.exited;
      assert.equal(result.code, 0, result.stderr);
    } finally {
      if (live.running) await live.kill();
    }
  });

  it("a PHP worker calls rr over RPC with the address it got in RR_RPC", async () => {
    const call = encodeURIComponent(JSON.stringify(["informer.List", true]));
    const res = await fetch(`http://127.0.0.1:${httpPort}/rpc?call=${call}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { rr_rpc: `tcp://127.0.0.1:${rpcPort}`, reply: ["http"] });
  });

  it("PHP's RPC client (JSON codec, seq from 1) reads informer and resetter replies", async () => {
    const out = await php([
      PHP_CLIENT,
      JSON.stringify([["informer.Workers", "http"], ["informer.Jobs", "http"], ["resetter.List", true], ["resetter.Reset", "nope"], ["rpc.Version", true]]),
    ], { RR_RPC: `tcp://127.0.0.1:${rpcPort}` });
    const [ws, jobs, list, reset, version] = out.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(ws.ok.workers.length, 2);
    assert.deepEqual(jobs, { ok: null });
    assert.deepEqual(list, { ok: ["http"] });
    assert.deepEqual(reset, { error: `Error 'no such plugin: nope' on tcp://127.0.0.1:${rpcPort}` });
    assert.match(version.ok, /^\d+\.\d+\.\d+/);
  });

  it("rr reset replaces every worker and reports progress per plugin", async () => {
    const pidsBefore = (await workers()).map((w) => w.pid);
    const result = await runRR(["reset", "-c", config]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^resetting http\.\.\. done in \d+\.\d\d?s\n$/);
    const pidsAfter = await waitFor(async (): Promise<number[] | false> => {
      const list = await workers();
      return list.length === 2 && list.every((w) => w.statusStr === "ready") ? list.map((w) => w.pid) : false;
    }, 5000, 50, "two ready workers after the reset");
    if (!pidsAfter) throw new Error("no workers after the reset");
    for (const pid of pidsBefore) assert.ok(!pidsAfter.includes(pid), `pid ${pid} should have been replaced`);
  });

  it("rr reset of an unknown plugin fails with the server's message", async () => {
    const result = await runRR(["reset", "nope", "-c", config]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "resetting nope... failed: no such plugin: nope\n");
  });

  it("say clearly when the config has no rpc section", async () => {
    const noRpc = tmp.write("no-rpc.yaml", `version: "3"\nserver:\n  command: "php ${APP}"\n`);
    for (const command of ["workers", "reset"]) {
      const result = await runRR([command, "-c", noRpc]);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, new RegExp(`^rr ${command} talks to a running rr over RPC, but .*no-rpc\\.yaml has no rpc section: add\\n  rpc:\\n    listen: tcp://127\\.0\\.0\\.1:6001\\n`));
    }
  });

  it("say clearly when rr is not running", async () => {
    client.close();
    rr.signal("SIGTERM");
    assert.equal((await rr.exited).code, 0);
    for (const command of ["workers", "reset"]) {
      const result = await runRR([command, "-c", config]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        `rr is not running or rpc is not listening on tcp://127.0.0.1:${rpcPort} (connection refused): start \`rr serve\` with an \`rpc:\` section\n`,
      );
    }
  });
});

describe("rr workers with the jobs plugin", () => {
  let tmp: TmpDir;
  let rr: RunningProcess;
  let config: string;
  let rpcPort: number;
  let statusPort: number;

  before(async () => {
    tmp = makeTmpDir("rr-cli-workers-jobs-test-");
    rpcPort = await freePort();
    statusPort = await freePort();
    config = tmp.write(
      ".rr.yaml",
      `version: "3"
server:
  command: "php ${join(ROOT, "tests/fixtures/php/jobs/consumer.php")}"
rpc:
  listen: tcp://127.0.0.1:${rpcPort}
status:
  address: 127.0.0.1:${statusPort}
jobs:
  pool:
    num_workers: 1
  consume: ["local"]
  pipelines:
    local:
      driver: memory
      config:
        priority: 10
logs:
  level: info
`,
    );
    rr = startRR(["serve", "-c", config]);
    await rr.waitForOutput("rr serve started", 15_000);
  });

  after(async () => {
    if (rr?.running) await rr.kill();
    tmp?.remove();
  });

  it("shows the pipelines under the workers, and informer.Jobs uses Go's field names", async () => {
    const result = await runRR(["workers", "-c", config]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Workers of \[jobs\]:\n/);
    assert.match(result.stdout, /Jobs of \[jobs\]:\n.*\n\| Status +\| Pipeline +\| Driver +\| Queue +\| Active +\| Delayed +\| Reserved +\|\n/);
    assert.match(result.stdout, /\| active +\| local +\| memory +\| local +\| +0 \| +0 \| +0 \|/);
    const client = await RpcClient.connect(getPlatform(), `tcp://127.0.0.1:${rpcPort}`);
    try {
      const jobs = await client.call<Array<Record<string, unknown>>>("informer.Jobs", "jobs");
      assert.equal(jobs.length, 1);
      assert.deepEqual(Object.keys(jobs[0]).sort(), ["Active", "Delayed", "Driver", "ErrorMessage", "Pipeline", "Priority", "Queue", "Ready", "Reserved"]);
      assert.equal(jobs[0].Pipeline, "local");
      assert.equal(jobs[0].Ready, true);
    } finally {
      client.close();
    }
  });

  it("status reports the jobs pool and its pipelines on /jobs", async () => {
    const health = await fetch(`http://127.0.0.1:${statusPort}/health?plugin=jobs`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), [{ plugin_name: "jobs", error_message: "", status_code: 200 }]);
    const jobs = await fetch(`http://127.0.0.1:${statusPort}/jobs`);
    assert.equal(jobs.status, 200);
    const [pipeline] = await jobs.json() as Array<Record<string, unknown>>;
    assert.deepEqual(pipeline, {
      pipeline: "local",
      priority: 10,
      ready: true,
      queue: "local",
      active: 0,
      delayed: 0,
      reserved: 0,
      driver: "memory",
      error_message: "",
    });
  });
});
