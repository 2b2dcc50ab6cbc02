// The server plugin: worker command and environment, on_init, user/group, socket relays.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import * as v from "valibot";
import { validateConfig } from "../src/config/schema.ts";
import { PoolSchema } from "../src/config/sections/pool.ts";
import { ConfigError, RRError } from "../src/errors.ts";
import { ServerPlugin } from "../src/plugins/server.ts";
import type { PluginContext } from "../src/plugins/types.ts";
import { call, fixture, platform, RecordingLogger } from "./pool-helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "rr-server-test-"));
const servers: ServerPlugin[] = [];
const WORKER = ["php", fixture("pool-worker.php")];
const ONE_WORKER = v.parse(PoolSchema, { num_workers: 1 });

after(async () => {
  await Promise.all(servers.map((s) => s.stop(false)));
  rmSync(tmp, { recursive: true, force: true });
});

async function startServer(
  raw: Record<string, unknown>,
  logger = new RecordingLogger(),
): Promise<{ server: ServerPlugin; logger: RecordingLogger }> {
  const { config } = validateConfig({ version: "3", ...raw }, ".rr.yaml");
  const ctx: PluginContext = {
    config,
    platform,
    logger: () => logger,
    plugin: () => undefined,
    version: "9.8.7-test",
  };
  const server = new ServerPlugin();
  servers.push(server);
  await server.start(ctx);
  return { server, logger };
}

function procStatus(pid: number, field: string): string {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
  return (line ?? "").slice(field.length + 1).trim().split(/\s+/)[0];
}

describe("server plugin", () => {
  it("gives workers server.env (upper-cased, $VAR expanded), RR_MODE, RR_RELAY and RR_VERSION", async () => {
    process.env.RR_SERVER_TEST_VALUE = "from-rr-env";
    const { server } = await startServer({ server: { command: WORKER, env: { app_greeting: "hi-$RR_SERVER_TEST_VALUE" } } });
    const pool = await server.newPool("http", ONE_WORKER, { rr_mode: "http" });
    assert.equal((await call(pool, "env:APP_GREETING")).body, "hi-from-rr-env");
    assert.equal((await call(pool, "env:RR_MODE")).body, "http");
    assert.equal((await call(pool, "env:RR_RELAY")).body, "pipes");
    assert.equal((await call(pool, "env:RR_VERSION")).body, "9.8.7-test");
    assert.equal((await call(pool, "env:RR_SERVER_TEST_VALUE")).body, "from-rr-env", "rr's own environment is inherited");
    assert.equal((await call(pool, "env:RR_RPC")).body, "<unset>", "no RR_RPC without an explicit rpc.listen");
    await pool.destroy();
  });

  it("sets RR_RPC only when rpc.listen is set explicitly, and <plugin>.pool.command overrides server.command", async () => {
    const { server } = await startServer({
      server: { command: "php /nonexistent/worker.php" },
      rpc: { listen: "tcp://127.0.0.1:16001" },
    });
    const pool = await server.newPool("jobs", v.parse(PoolSchema, { num_workers: 1, command: WORKER }), { RR_MODE: "jobs" });
    assert.equal((await call(pool, "env:RR_RPC")).body, "tcp://127.0.0.1:16001");
    assert.equal((await call(pool, "env:RR_MODE")).body, "jobs");
  });

  it("runs on_init before any worker starts", async () => {
    const mark = join(tmp, "on-init-ran");
    const { server } = await startServer({
      server: {
        command: WORKER,
        env: { POOL_REQUIRE_FILE: mark },
        on_init: { command: ["php", "-r", "file_put_contents(getenv('MARK_FILE'), 'x');"], env: { MARK_FILE: mark } },
      },
    });
    assert.ok(existsSync(mark));
    const pool = await server.newPool("http", ONE_WORKER, {});
    assert.equal((await call(pool, "saw-file")).body, "yes", "the worker saw the file on_init created");
  });

  it("logs a failing or timed-out on_init and starts anyway; exit_on_error stops startup", async () => {
    const failing = await startServer({ server: { command: WORKER, on_init: { command: ["php", "-r", "exit(7);"] } } });
    assert.match(failing.logger.text("error"), /on_init command "php -r exit\(7\);" exited with code 7; starting the workers anyway/);
    const pool = await failing.server.newPool("http", ONE_WORKER, {});
    assert.equal((await call(pool, "served")).body, "served");

    const started = Date.now();
    const slow = await startServer({
      server: { command: WORKER, on_init: { command: ["php", "-r", "sleep(5);"], exec_timeout: "300ms" } },
    });
    assert.ok(Date.now() - started < 2000, "the timeout ends on_init");
    assert.match(slow.logger.text("error"), /did not finish within exec_timeout \(300ms\) and was killed/);

    await assert.rejects(
      startServer({ server: { command: WORKER, on_init: { command: ["php", "-r", "exit(2);"], exit_on_error: true } } }),
      (error: unknown) => {
        assert.ok(error instanceof RRError);
        assert.match(error.message, /exited with code 2; stopping because server.on_init.exit_on_error is true/);
        return true;
      },
    );
  });

  it("runs workers as server.user / server.group (as root), or says why it cannot", async () => {
    if (process.getuid?.() === 0) {
      const { server } = await startServer({ server: { command: WORKER, user: "nobody", group: "nogroup" } });
      const pool = await server.newPool("http", ONE_WORKER, {});
      const { pid } = await call(pool, "who");
      assert.equal(procStatus(pid, "Uid"), "65534");
      assert.equal(procStatus(pid, "Gid"), "65534");
    } else {
      await assert.rejects(startServer({ server: { command: WORKER, user: "nobody" } }), /only root can start workers/);
    }
    await assert.rejects(startServer({ server: { command: WORKER, user: "no-such-user-rr" } }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /server\.user/);
      return true;
    });
  });

  for (const relay of ["tcp://127.0.0.1:0", "unix"]) {
    it(`serves through a ${relay.slice(0, 4)} socket relay shared by two pools`, async () => {
      const address = relay === "unix" ? `unix://${join(tmp, "relay.sock")}` : relay;
      const { server } = await startServer({ server: { command: WORKER, relay: address } });
      const http = await server.newPool("http", v.parse(PoolSchema, { num_workers: 2 }), { RR_MODE: "http" });
      const jobs = await server.newPool("jobs", ONE_WORKER, { RR_MODE: "jobs" });
      const replies = await Promise.all([call(http, "a"), call(http, "b"), call(jobs, "c")]);
      assert.deepEqual(replies.map((r) => r.body), ["a", "b", "c"]);
      const workerRelay = (await call(jobs, "env:RR_RELAY")).body;
      if (relay === "unix") {
        assert.equal(workerRelay, address);
      } else {
        assert.match(workerRelay, /^tcp:\/\/127\.0\.0\.1:\d+$/);
        assert.notEqual(workerRelay, "tcp://127.0.0.1:0", "workers get the bound port");
      }
      assert.equal((await call(http, "env:RR_MODE")).body, "http");
      await server.stop(false);
      if (relay === "unix") assert.ok(!existsSync(join(tmp, "relay.sock")), "the socket file is removed");
    });
  }
});
