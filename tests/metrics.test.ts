// The metrics plugin: Prometheus text scraped from a real `rr serve` (pool metrics of an http
// pool of PHP workers, application metrics declared in .rr.yaml and over RPC from PHP with the
// JSON codec, RoadRunner's error texts), and the http request hook with RoadRunner's buckets.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { getPlatform } from "../src/platform/index.ts";
import { RpcClient } from "../src/plugins/rpc/client.ts";
import type { InformerWorker } from "../src/plugins/informer.ts";
import { HTTP_DURATION_BUCKETS, MetricsPlugin } from "../src/plugins/metrics/plugin.ts";
import type { PluginContext } from "../src/plugins/types.ts";
import type { RRConfig } from "../src/config/schema.ts";
import { freePort, makeTmpDir, ROOT, type RunningProcess, startRR, type TmpDir } from "./helpers/index.ts";
import { memoryLogger } from "./rpc-helpers.ts";

const APP = join(ROOT, "tests/fixtures/php/rpc-app.php");
const PHP_CLIENT = join(ROOT, "tests/fixtures/php/rpc-client.php");

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: every sample must follow its family's HELP and TYPE. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith("\n"), "the exposition ends with a newline");
  for (const line of text.trimEnd().split("\n")) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$/.exec(line);
    if (m) {
      helps.add(m[1]);
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      assert.ok(!types.has(m[1]), `family ${m[1]} declared twice`);
      types.set(m[1], m[2]);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a valid exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? "").match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf("=");
      labels[pair.slice(0, eq)] = JSON.parse(pair.slice(eq + 1));
    }
    const name = m[1];
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(family) && helps.has(family), `sample ${name} has no HELP/TYPE before it`);
    const value = m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : Number(m[3]);
    assert.ok(m[3] === "NaN" || !Number.isNaN(value), `bad value in ${line}`);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
    Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

function php(calls: unknown[], rpcAddress: string): Promise<Array<{ ok?: unknown; error?: string }>> {
  return new Promise((resolve, reject) => {
    execFile("php", [PHP_CLIENT, JSON.stringify(calls)], { env: { ...process.env, RR_RPC: rpcAddress } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`php failed: ${error.message}\n${stderr}`));
      else resolve(String(stdout).trim().split("\n").map((l) => JSON.parse(l)));
    });
  });
}

describe("metrics plugin with rr serve", () => {
  let tmp: TmpDir;
  let rr: RunningProcess;
  let rpc: string;
  let httpPort: number;
  let metricsPort: number;

  const scrape = async (path = "/metrics") => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}${path}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    return parseExposition(await res.text());
  };

  before(async () => {
    tmp = makeTmpDir("rr-metrics-test-");
    rpc = `tcp://127.0.0.1:${await freePort()}`;
    httpPort = await freePort();
    metricsPort = await freePort();
    tmp.write(
      ".rr.yaml",
      `version: "3"
server:
  command: "php ${APP}"
http:
  address: 127.0.0.1:${httpPort}
  middleware: ["http_metrics"]
  pool:
    num_workers: 2
rpc:
  listen: ${rpc}
metrics:
  address: 127.0.0.1:${metricsPort}
  collect:
    app_jobs:
      type: summary
      help: "Job durations"
      objectives:
        - 0.5: 0.05
        - 0.9: 0.01
    app_hits:
      type: counter
      help: "Hits by route"
      namespace: app
      labels: ["route"]
logs:
  level: warn
`,
    );
    rr = startRR(["serve", "-c", join(tmp.path, ".rr.yaml"), "-o", "logs.level=info"]);
    await rr.waitForOutput("rr serve started", 15_000);
  });

  after(async () => {
    if (rr?.running) await rr.kill();
    tmp?.remove();
  });

  it("exposes the http pool's workers by state and pid, memory, queue depth and execs", async () => {
    for (let i = 0; i < 5; i++) assert.equal(await (await fetch(`http://127.0.0.1:${httpPort}/`)).text(), "ok");
    const client = await RpcClient.connect(getPlatform(), rpc);
    let workers: InformerWorker[];
    try {
      workers = (await client.call<{ workers: InformerWorker[] }>("informer.Workers", "http")).workers;
    } finally {
      client.close();
    }
    const { types, samples } = await scrape();
    assert.equal(types.get("rr_http_total_workers"), "gauge");
    assert.equal(valueOf(samples, "rr_http_total_workers"), 2);
    assert.equal(valueOf(samples, "rr_http_workers_ready"), 2);
    assert.equal(valueOf(samples, "rr_http_workers_working"), 0);
    for (const w of workers) {
      assert.equal(valueOf(samples, "rr_http_worker_state", { state: "ready", pid: String(w.pid) }), 1);
      assert.ok((valueOf(samples, "rr_http_worker_memory_bytes", { pid: String(w.pid) }) ?? 0) > 1_000_000);
    }
    const perWorker = samples.filter((s) => s.name === "rr_http_worker_memory_bytes").reduce((sum, s) => sum + s.value, 0);
    assert.ok((valueOf(samples, "rr_http_workers_memory_bytes") ?? 0) > 0 && perWorker > 0);
    assert.equal(valueOf(samples, "rr_http_requests_queue"), 0);
    assert.equal(types.get("rr_http_execs_total"), "counter");
    assert.ok((valueOf(samples, "rr_http_execs_total") ?? 0) >= 5);
    assert.equal(valueOf(samples, "rr_http_errors_total"), 0);
    // rr_http_request_duration_seconds is a histogram with RoadRunner's buckets, even before any sample.
    assert.equal(types.get("rr_http_request_duration_seconds"), "histogram");
    assert.ok((valueOf(samples, "process_resident_memory_bytes") ?? 0) > 1_000_000);
  });

  it("counts real http requests by status through the http_metrics middleware", async () => {
    const before = await scrape();
    const ok0 = valueOf(before.samples, "rr_http_request_total", { status: "200" }) ?? 0;
    const missing0 = valueOf(before.samples, "rr_http_request_total", { status: "404" }) ?? 0;
    for (let i = 0; i < 3; i++) await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
    const { samples } = await scrape();
    assert.equal(valueOf(samples, "rr_http_request_total", { status: "200" }), ok0 + 3);
    assert.equal(valueOf(samples, "rr_http_request_total", { status: "404" }) ?? 0, missing0);
    const count = valueOf(samples, "rr_http_request_duration_seconds_count", { status: "200" });
    const inf = valueOf(samples, "rr_http_request_duration_seconds_bucket", { status: "200", le: "+Inf" });
    assert.equal(count, ok0 + 3);
    assert.equal(inf, ok0 + 3);
  });

  it("serves the same exposition on every path", async () => {
    const root = await scrape("/");
    const other = await scrape("/anything/else");
    assert.equal(root.types.get("rr_http_total_workers"), "gauge");
    assert.equal(other.types.get("rr_http_total_workers"), "gauge");
  });

  it("declares and updates application metrics over RPC the way spiral/roadrunner-metrics does", async () => {
    const declare = (name: string, collector: Record<string, unknown>) =>
      ["@metrics", "declare", { name, collector: { namespace: "", subsystem: "", help: "", labels: [], buckets: [], ...collector } }];
    const replies = await php([
      declare("orders", { namespace: "shop", type: "counter", help: "Orders placed", labels: ["kind"] }),
      declare("orders", { namespace: "shop", type: "counter", help: "Orders placed", labels: ["kind"] }),
      ["@metrics", "add", { name: "orders", value: 2.0, labels: ["web"] }],
      ["@metrics", "add", { name: "orders", value: 1.5, labels: ["api"] }],
      declare("queue_size", { type: "gauge", help: "Queue size" }),
      ["@metrics", "set", { name: "queue_size", value: 10.0, labels: [] }],
      ["@metrics", "sub", { name: "queue_size", value: 3.0, labels: [] }],
      ["@metrics", "add", { name: "queue_size", value: 1.0, labels: [] }],
      declare("latency", { type: "histogram", help: "Latency", buckets: [0.1, 0.5, 1.0] }),
      ["@metrics", "observe", { name: "latency", value: 0.05, labels: [] }],
      ["@metrics", "observe", { name: "latency", value: 0.3, labels: [] }],
      ["@metrics", "observe", { name: "latency", value: 2.0, labels: [] }],
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((v) => ["@metrics", "observe", { name: "app_jobs", value: v, labels: [] }]),
    ], rpc);
    assert.deepEqual(replies, replies.map(() => ({ ok: true })));

    const { types, samples } = await scrape();
    assert.equal(types.get("shop_orders"), "counter");
    assert.equal(valueOf(samples, "shop_orders", { kind: "web" }), 2);
    assert.equal(valueOf(samples, "shop_orders", { kind: "api" }), 1.5);
    assert.equal(valueOf(samples, "queue_size"), 8);
    assert.equal(types.get("latency"), "histogram");
    assert.deepEqual(
      samples.filter((s) => s.name === "latency_bucket").map((s) => [s.labels.le, s.value]),
      [["0.1", 1], ["0.5", 2], ["1", 2], ["+Inf", 3]],
    );
    assert.equal(valueOf(samples, "latency_count"), 3);
    assert.ok(Math.abs((valueOf(samples, "latency_sum") ?? 0) - 2.35) < 1e-9);
    // Declared in .rr.yaml: a summary with objectives, and a labelled counter under a namespace.
    assert.equal(types.get("app_jobs"), "summary");
    assert.equal(valueOf(samples, "app_jobs", { quantile: "0.5" }), 5);
    assert.equal(valueOf(samples, "app_jobs", { quantile: "0.9" }), 9);
    assert.equal(valueOf(samples, "app_jobs_count"), 10);
    assert.equal(valueOf(samples, "app_jobs_sum"), 55);
    assert.equal(types.get("app_app_hits"), "counter");
  });

  it("answers RoadRunner's error texts (PHP sees them in ServiceException)", async () => {
    const err = (text: string) => ({ error: `Error '${text}' on ${rpc}` });
    const replies = await php([
      ["@metrics", "add", { name: "nope", value: 1.0, labels: [] }],
      ["@metrics", "add", { name: "app_hits", value: 1.0, labels: [] }],
      ["@metrics", "observe", { name: "app_hits", value: 1.0, labels: ["/"] }],
      ["@metrics", "set", { name: "app_hits", value: 1.0, labels: ["/"] }],
      ["@metrics", "sub", { name: "nope", value: 1.0, labels: [] }],
      ["@metrics", "add", { name: "app_hits", value: 1.0, labels: ["/", "extra"] }],
      ["@metrics", "declare", { name: "app_app_hits", collector: { type: "counter", help: "", namespace: "", subsystem: "", labels: [], buckets: [] } }],
      ["@metrics", "declare", { name: "weird", collector: { type: "meter", help: "", namespace: "", subsystem: "", labels: [], buckets: [] } }],
    ], rpc);
    assert.deepEqual(replies, [
      err("metrics_plugin_add: undefined collector nope, try first Declare the desired collector"),
      err("metrics_plugin_add: required labels for collector app_hits"),
      err("metrics_plugin_observe: collector app_hits does not support method `Observe`"),
      err("metrics_plugin_set: collector app_hits does not support method `Set`"),
      err("metrics_plugin_sub: undefined collector nope"),
      err("metrics_plugin_add: inconsistent label cardinality: expected 1 label values but got 2 in [/ extra]"),
      err("metrics_plugin_declare: tried to register existing collector with the name `app_app_hits`"),
      err("metrics_plugin_declare: unknown collector type `meter` for weird: use counter, gauge, histogram or summary"),
    ]);
  });

  it("unregisters a collector; a second Unregister names it as undefined", async () => {
    const replies = await php([
      ["@metrics", "declare", { name: "temp", collector: { type: "gauge", help: "t", namespace: "", subsystem: "", labels: [], buckets: [] } }],
      ["@metrics", "unregister", "temp"],
      ["@metrics", "unregister", "temp"],
    ], rpc);
    assert.deepEqual(replies, [{ ok: true }, { ok: true }, { error: `Error 'metrics_plugin_unregister: undefined collector temp' on ${rpc}` }]);
    const { types } = await scrape();
    assert.equal(types.has("temp"), false);
  });

  it("a PHP worker updates a metric over RPC while serving a request", async () => {
    const call = encodeURIComponent(JSON.stringify(["metrics.Add", { name: "app_hits", value: 1, labels: ["/rpc"] }]));
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${httpPort}/rpc?call=${call}`);
      assert.deepEqual(await res.json(), { rr_rpc: rpc, reply: true });
    }
    const { samples } = await scrape();
    assert.equal(valueOf(samples, "app_app_hits", { route: "/rpc" }), 3);
  });
});

describe("metrics plugin: http request hook", () => {
  let plugin: MetricsPlugin;

  before(async () => {
    plugin = new MetricsPlugin();
    const ctx: PluginContext = {
      config: { version: "3", metrics: { address: "127.0.0.1:0", collect: {} } } as unknown as RRConfig,
      platform: getPlatform(),
      logger: () => memoryLogger(),
      plugin: () => undefined,
      plugins: () => [plugin],
      version: "test",
    };
    await plugin.start(ctx);
  });

  after(async () => {
    await plugin.stop(true);
  });

  it("counts requests by status and records durations in RoadRunner's buckets", async () => {
    plugin.observeHttpRequest(200, 0.003);
    plugin.observeHttpRequest(200, 0.2);
    plugin.observeHttpRequest(500, 45);
    plugin.countNoFreeWorkers();
    const res = await fetch(`http://127.0.0.1:${plugin.port}/metrics`);
    const { types, samples } = parseExposition(await res.text());
    assert.equal(types.get("rr_http_request_total"), "counter");
    assert.equal(valueOf(samples, "rr_http_request_total", { status: "200" }), 2);
    assert.equal(valueOf(samples, "rr_http_request_total", { status: "500" }), 1);
    assert.equal(valueOf(samples, "rr_http_no_free_workers_total"), 1);
    const buckets200 = samples.filter((s) => s.name === "rr_http_request_duration_seconds_bucket" && s.labels.status === "200");
    assert.deepEqual(buckets200.map((s) => s.labels.le), [...HTTP_DURATION_BUCKETS.map(String), "+Inf"]);
    assert.deepEqual(buckets200.map((s) => s.labels.le), ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "20", "30", "60", "+Inf"]);
    assert.equal(buckets200.find((s) => s.labels.le === "0.005")?.value, 1);
    assert.equal(buckets200.find((s) => s.labels.le === "0.25")?.value, 2);
    const buckets500 = samples.filter((s) => s.name === "rr_http_request_duration_seconds_bucket" && s.labels.status === "500");
    assert.equal(buckets500.find((s) => s.labels.le === "30")?.value, 0);
    assert.equal(buckets500.find((s) => s.labels.le === "60")?.value, 1);
    assert.equal(valueOf(samples, "rr_http_request_duration_seconds_count", { status: "500" }), 1);
    assert.equal(valueOf(samples, "rr_http_request_duration_seconds_sum", { status: "500" }), 45);
  });
});
