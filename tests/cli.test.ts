// The rr CLI as users run it (a real subprocess under the current runtime), and the
// plugin host's ordering and failure handling (in-process, with small test plugins).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { orderPlugins, PluginHost } from "../src/app/host.ts";
import { loadConfig } from "../src/config/schema.ts";
import { createLogging } from "../src/logs/index.ts";
import { getPlatform } from "../src/platform/index.ts";
import { parseGlobalFlags } from "../src/cli/flags.ts";
import type { Plugin, PluginContext } from "../src/plugins/types.ts";
import { execFileSync } from "node:child_process";
import { freePort, IS_DENO, makeTmpDir, ROOT, runRR, startRR, stripAnsi, type TmpDir, waitFor } from "./helpers/index.ts";

let dir: TmpDir;
before(() => {
  dir = makeTmpDir("rr-cli-");
});
after(() => dir.remove());

const V3 = 'version: "3"\n';
/** No stack trace lines ("    at foo (file:1:2)") in user-facing errors. */
const STACK_LINE = /^\s+at .+:\d+/m;
/** Subprocess tests: generous, since CI machines are slow and shared (bun's default is 5 s). */
const SLOW = { timeout: 30_000 };

describe("rr CLI", () => {
  it("--version prints the package version, runtime and target", SLOW, async () => {
    const { code, stdout } = await runRR(["--version"]);
    assert.equal(code, 0);
    const runtime = IS_DENO ? "deno" : "bun";
    const match = /^rr version (\S+) \((\w+) (\d+\.\d+\.\d+\S*), (linux|darwin)-(x64|arm64)\)\n$/.exec(stdout);
    assert.ok(match, stdout);
    assert.equal(match[1], pkg.version);
    assert.equal(match[2], runtime);
    assert.equal(match[4], process.platform);
  });

  it("--help lists the commands and the global flags", SLOW, async () => {
    const { code, stdout } = await runRR(["--help"]);
    assert.equal(code, 0);
    const text = stripAnsi(stdout);
    for (const word of ["serve", "workers", "reset", "--config", "--override", "--dotenv", "--silent", "--pid"]) {
      assert.ok(text.includes(word), `help lacks ${word}:\n${text}`);
    }
  });

  it("exits 1 with a clear message and no stack trace on a config error", SLOW, async () => {
    dir.write("bad-type/.rr.yaml", `${V3}rpc:\n  listen: tcp://127.0.0.1:0\nendure:\n  grace_period: [1]\n`);
    const result = await runRR(["serve", "-c", "bad-type/.rr.yaml"], { cwd: dir.path });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Cannot load config bad-type\/\.rr\.yaml: endure\.grace_period: expected a duration/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  });

  it("exits 1 when the config file is missing, naming it", SLOW, async () => {
    const result = await runRR(["serve"], { cwd: dir.path });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Cannot load config \.rr\.yaml: the file does not exist/);
  });

  it("exits 1 on a bad -o override and on a YAML syntax error", SLOW, async () => {
    dir.write("ok/.rr.yaml", `${V3}rpc:\n  listen: tcp://127.0.0.1:0\n`);
    const bad = await runRR(["-c", "ok/.rr.yaml", "serve", "-o", "rpc.listen"], { cwd: dir.path });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Cannot apply override -o rpc\.listen: expected key\.path=value/);

    dir.write("syntax/.rr.yaml", `${V3}rpc:\n  listen: "tcp://127.0.0.1:0\n`);
    const syntax = await runRR(["serve", "-c", "syntax/.rr.yaml"], { cwd: dir.path });
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /YAML syntax error at line \d+, column \d+/);
    assert.doesNotMatch(syntax.stderr, STACK_LINE);
  });

  it("workers and reset explain that they need an rpc section; unknown commands fail", SLOW, async () => {
    dir.write("no-rpc/.rr.yaml", `${V3}logs:\n  mode: production\n`);
    for (const command of ["workers", "reset"]) {
      const result = await runRR([command, "-c", "no-rpc/.rr.yaml"], { cwd: dir.path });
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`rr ${command} .*rpc`));
      assert.doesNotMatch(result.stderr, STACK_LINE);
    }
    const unknown = await runRR(["frobnicate"]);
    assert.equal(unknown.code, 1);
    assert.match(stripAnsi(unknown.stderr), /Unknown command frobnicate/);
  });

  it("serve starts the configured plugins, writes .pid, logs warnings, and stops on SIGTERM with exit 0", SLOW, async () => {
    const app = join(dir.path, "app");
    dir.write("app/.rr.yaml", `${V3}rpc:\n  listen: tcp://127.0.0.1:\${RPC_PORT}\n  lisen: typo\nlogs:\n  mode: production\n  output: rr.log\n`);
    dir.write("app.env", "RPC_PORT=0\n");
    const rr = startRR(["serve", "-c", "app/.rr.yaml", "--dotenv", "app.env", "-p"], { cwd: dir.path });
    try {
      // logs.output is relative: it lands in the config file's directory (rr chdirs there).
      const logFile = join(app, "rr.log");
      await waitForFile(logFile, /rr serve started/);
      const lines = readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      const started = lines.find((l) => String(l.msg).startsWith("rr serve started"));
      assert.ok(started, JSON.stringify(lines));
      assert.match(String(started.msg), new RegExp(`version ${pkg.version} \\(runtime ${IS_DENO ? "deno" : "bun"}, target`));
      assert.deepEqual(started.plugins, ["rpc"]);
      assert.ok(lines.some((l) => l.level === "warn" && String(l.msg).includes("did you mean rpc.listen?")));
      assert.ok(lines.some((l) => l.logger === "rpc" && /listening on tcp:\/\/127\.0\.0\.1:\d+/.test(String(l.msg))));
      assert.equal(readFileSync(join(app, ".pid"), "utf8").trim(), String(rr.pid));

      rr.signal("SIGTERM");
      const result = await rr.exited;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(existsSync(join(app, ".pid")), false, ".pid must be removed on exit");
      assert.match(readFileSync(logFile, "utf8"), /"msg":"rr stopped"/);
    } finally {
      await rr.kill();
    }
  });

  it("serve with nothing to serve warns, honours -w, and stops on SIGINT", SLOW, async () => {
    dir.write("empty/.rr.yaml", `${V3}logs:\n  encoding: json\n  output: stdout\nkv:\n  memory: {}\n`);
    dir.write("elsewhere/keep", "");
    const rr = startRR(["serve", "-c", "empty/.rr.yaml", "-w", "elsewhere", "-p"], { cwd: dir.path });
    try {
      await rr.waitForOutput("nothing is configured to serve");
      assert.match(rr.stdout, /section kv is not supported by rr yet; it is ignored/);
      assert.ok(existsSync(join(dir.path, "elsewhere", ".pid")), "-w moves the working directory");
      rr.signal("SIGINT");
      const result = await rr.exited;
      assert.equal(result.code, 0);
    } finally {
      await rr.kill();
    }
  });

  it("-s silences the logs; rr stop stops an rr started with -p", SLOW, async () => {
    dir.write("silent/.rr.yaml", `${V3}rpc:\n  listen: tcp://127.0.0.1:0\n`);
    const rr = startRR(["serve", "-s", "-c", "silent/.rr.yaml", "-p"], { cwd: dir.path });
    try {
      const pidFile = join(dir.path, "silent", ".pid");
      await waitForFile(pidFile, /\d+/);
      // Give it time to finish starting (and to log, if it wrongly would).
      await new Promise((done) => setTimeout(done, 300));
      // `rr stop` reads the .pid of the config's directory and sends SIGTERM.
      const stop = await runRR(["stop", "-c", "silent/.rr.yaml"], { cwd: dir.path });
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(stop.stdout, `sent SIGTERM to rr (pid ${rr.pid})\n`);
      const result = await rr.exited;
      assert.equal(result.code, 0);
      assert.equal(result.stdout + result.stderr, "");
      const again = await runRR(["stop", "-c", "silent/.rr.yaml"], { cwd: dir.path });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^Cannot stop rr: .*\.pid does not exist/);
    } finally {
      await rr.kill();
    }
  });

  it("exits 1 with the plugin's error when a plugin cannot start", SLOW, async () => {
    const busy: Server = createServer();
    await new Promise<void>((done) => busy.listen(0, "127.0.0.1", done));
    const address = busy.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      dir.write("busy/.rr.yaml", `${V3}rpc:\n  listen: tcp://127.0.0.1:${port}\n`);
      const result = await runRR(["serve", "-c", "busy/.rr.yaml"], { cwd: dir.path });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /Cannot start plugin rpc: /);
      assert.doesNotMatch(result.stderr, STACK_LINE);
    } finally {
      await new Promise<void>((done) => busy.close(() => done()));
    }
  });
});

describe("rr serve shutdown with a request in flight", () => {
  /** Start rr with one slow PHP HTTP worker and put a request on it; returns rr, the pending request and a marker. */
  async function serveBusy(name: string) {
    const port = await freePort();
    // The marker (an ignored argv item) lets us find this test's PHP workers with ps.
    const marker = `rr-shutdown-${name}-${process.pid}-${Date.now()}`;
    dir.write(
      `${name}/.rr.yaml`,
      `${V3}server:\n  command: "php ${join(ROOT, "tests/fixtures/php/http/slow.php")} ${marker}"\n` +
        `http:\n  address: 127.0.0.1:${port}\n  pool:\n    num_workers: 1\nendure:\n  grace_period: 1s\nlogs:\n  mode: production\n`,
    );
    const rr = startRR(["serve", "-c", `${name}/.rr.yaml`], { cwd: dir.path });
    await rr.waitForOutput("rr serve started", 15_000);
    const request = fetch(`http://127.0.0.1:${port}/?ms=20000`).then((r) => r.text(), (e: Error) => `failed: ${e.message}`);
    await waitFor(() => workerPids(marker).length === 1, 5_000, 25, "the PHP worker");
    await new Promise((done) => setTimeout(done, 200)); // let the request reach the worker
    return { rr, request, marker };
  }

  function workerPids(marker: string): number[] {
    const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
    return out.split("\n").filter((line) => line.includes(marker)).map((line) => Number.parseInt(line, 10));
  }

  it("the first signal drains within endure.grace_period, then stops forcibly and leaves no worker behind", SLOW, async () => {
    const { rr, request, marker } = await serveBusy("grace");
    try {
      const started = Date.now();
      rr.signal("SIGTERM");
      const result = await rr.exited;
      const took = Date.now() - started;
      await request;
      assert.match(result.stderr, /grace period of 1s expired; stopping forcibly/);
      // Graceful for 1 s, then at most 1 s of forced stop (then rr kills the workers and exits 1).
      assert.ok(took >= 900 && took < 3_500, `took ${took} ms`);
      assert.ok(result.code === 0 || (result.code === 1 && /exiting anyway/.test(result.stderr)), `exit ${result.code}: ${result.stderr}`);
      await waitFor(() => workerPids(marker).length === 0, 3_000, 50, "the worker to be gone");
    } finally {
      await rr.kill();
    }
  });

  it("a second signal stops at once and exits 1", SLOW, async () => {
    const { rr, request, marker } = await serveBusy("twice");
    try {
      rr.signal("SIGTERM");
      await rr.waitForOutput("stopping gracefully");
      rr.signal("SIGINT");
      const result = await rr.exited;
      await request;
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /received SIGINT again; stopping forcibly/);
      assert.doesNotMatch(result.stderr, /grace period of 1s expired/);
      await waitFor(() => workerPids(marker).length === 0, 3_000, 50, "the worker to be gone");
    } finally {
      await rr.kill();
    }
  });
});

/** Poll a file until its content matches. */
async function waitForFile(path: string, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path) && pattern.test(readFileSync(path, "utf8"))) return;
    await new Promise((done) => setTimeout(done, 25));
  }
  throw new Error(`${path} did not match ${pattern} within ${timeoutMs} ms`);
}

/** A plugin that records its lifecycle into a shared journal. */
class JournalPlugin implements Plugin {
  constructor(
    readonly name: string,
    readonly journal: string[],
    readonly dependsOn: readonly string[] = [],
    readonly failStart = false,
  ) {}
  seen: PluginContext | undefined;
  start(ctx: PluginContext): Promise<void> {
    this.seen = ctx;
    if (this.failStart) return Promise.reject(new Error(`${this.name} cannot bind`));
    this.journal.push(`start ${this.name}`);
    return Promise.resolve();
  }
  stop(force: boolean): Promise<void> {
    this.journal.push(`stop ${this.name}${force ? " (forced)" : ""}`);
    return Promise.resolve();
  }
}

describe("global flags", () => {
  it("are read before and after the command, -o repeats, RoadRunner's spellings work", () => {
    const flags = parseGlobalFlags([
      "-c", "a.yaml", "serve", "-o", "http.x=1", "--override=rpc.listen=tcp://127.0.0.1:1", "-ohttp.y=2",
      "--WorkDir", "/srv", "--dotenv=.env", "-s", "-d", "-p",
    ]);
    assert.deepEqual(flags, {
      config: "a.yaml",
      workDir: "/srv",
      overrides: ["http.x=1", "rpc.listen=tcp://127.0.0.1:1", "http.y=2"],
      dotenv: ".env",
      silent: true,
      debug: true,
      pid: true,
    });
    assert.deepEqual(parseGlobalFlags(["serve"]), { config: ".rr.yaml", overrides: [], silent: false, debug: false, pid: false });
    assert.throws(() => parseGlobalFlags(["serve", "-c"]), /Flag -c needs a value/);
  });
});

describe("plugin host", () => {
  const logging = createLogging({ mode: "off", channels: {} });
  const hostFor = (yaml: string, plugins: Record<string, (section: string) => Plugin>, alwaysOn = {}) => {
    const file = dir.write(`host-${Math.random().toString(36).slice(2)}.yaml`, yaml);
    const { config } = loadConfig({ configPath: file, env: {} });
    return new PluginHost({ config, platform: getPlatform(), logger: (c) => logging.logger(c), version: "test", plugins, alwaysOn });
  };

  it("starts plugins in dependency order, only for configured sections, and stops them in reverse", async () => {
    const journal: string[] = [];
    const host = hostFor(`${V3}http:\n  address: 127.0.0.1:0\nserver:\n  command: php w.php\nrpc: {}\n`, {
      http: (s) => new JournalPlugin(s, journal, ["server"]),
      server: (s) => new JournalPlugin(s, journal),
      rpc: (s) => new JournalPlugin(s, journal),
      jobs: (s) => new JournalPlugin(s, journal, ["server"]),
    }, { informer: (s: string) => new JournalPlugin(s, journal, ["rpc"]), metrics: (s: string) => new JournalPlugin(s, journal, ["nope"]) });
    // Dependencies first; otherwise the order of the config schema's sections.
    assert.deepEqual(host.names, ["server", "rpc", "http", "informer"]);
    await host.start();
    const informer = host.plugin<JournalPlugin>("informer");
    assert.equal(informer?.seen?.plugin("server")?.name, "server");
    assert.deepEqual(informer?.seen?.plugins?.().map((p) => p.name), ["server", "rpc", "http", "informer"]);
    await host.stop(false);
    assert.deepEqual(journal, [
      "start server", "start rpc", "start http", "start informer",
      "stop informer", "stop http", "stop rpc", "stop server",
    ]);
  });

  it("a start failure stops what started, in reverse, and reports the plugin", async () => {
    const journal: string[] = [];
    const host = hostFor(`${V3}server:\n  command: php w.php\nrpc: {}\nhttp:\n  address: 127.0.0.1:0\n`, {
      server: (s) => new JournalPlugin(s, journal),
      rpc: (s) => new JournalPlugin(s, journal),
      http: (s) => new JournalPlugin(s, journal, ["server"], true),
    });
    await assert.rejects(host.start(), /^RRError: Cannot start plugin http: http cannot bind$/);
    assert.deepEqual(journal, ["start server", "start rpc", "stop rpc (forced)", "stop server (forced)"]);
  });

  it("reports a missing dependency with the section to add", () => {
    assert.throws(
      () => hostFor(`${V3}http:\n  address: 127.0.0.1:0\n  pool:\n    command: php w.php\n`, {
        http: (s) => new JournalPlugin(s, [], ["server"]),
        server: (s) => new JournalPlugin(s, []),
      }),
      /Cannot start plugin http: it needs the server plugin; add a `server:` section/,
    );
  });

  it("reports a dependency cycle", () => {
    const a = new JournalPlugin("a", [], ["b"]);
    const b = new JournalPlugin("b", [], ["a"]);
    assert.throws(() => orderPlugins(new Map([["a", a], ["b", b]])), /dependencies form a cycle: a → b → a/);
  });
});
