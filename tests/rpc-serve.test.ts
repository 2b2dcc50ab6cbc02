// rr serve with only the rpc plugin on a unix socket given relative to the config file:
// the CLI and clients find it from any working directory, rpc.Version/rpc.Config answer,
// and the socket file is removed when rr stops.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { getPlatform } from "../src/platform/index.ts";
import { RpcClient } from "../src/plugins/rpc/client.ts";
import { VERSION } from "../src/version.ts";
import { makeTmpDir, ROOT, runRR, type RunningProcess, startRR, type TmpDir } from "./helpers/index.ts";

describe("rpc on a unix socket", () => {
  let tmp: TmpDir;
  let rr: RunningProcess;
  let socket: string;

  before(async () => {
    tmp = makeTmpDir("rr-rpc-serve-test-");
    socket = join(tmp.path, "rr.sock");
    tmp.write(".rr.yaml", `version: "3"\nrpc:\n  listen: unix://rr.sock\nlogs:\n  level: info\n`);
    // Started from the repository root: the relative path resolves against the config's directory.
    rr = startRR(["serve", "-c", join(tmp.path, ".rr.yaml")], { cwd: ROOT });
    await rr.waitForOutput("rr serve started", 15_000);
  });

  after(async () => {
    if (rr?.running) await rr.kill();
    tmp?.remove();
  });

  it("listens on the socket next to the config file", () => {
    assert.ok(existsSync(socket));
    assert.match(rr.output, new RegExp(`rpc listening on unix://${socket.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  });

  it("answers rpc.Version and rpc.Config (Go's []byte: base64 in JSON)", async () => {
    const client = await RpcClient.connect(getPlatform(), `unix://${socket}`);
    try {
      assert.equal(await client.call("rpc.Version", true), VERSION);
      const config = JSON.parse(atob(await client.call<string>("rpc.Config", true)));
      assert.equal(config.rpc.listen, "unix://rr.sock");
      assert.equal(config.version, "3");
    } finally {
      client.close();
    }
  });

  it("PHP's client reaches it through RR_RPC=unix://...", async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        "php",
        [join(ROOT, "tests/fixtures/php/rpc-client.php"), JSON.stringify([["informer.List", true], ["resetter.List", true]])],
        { env: { ...process.env, RR_RPC: `unix://${socket}` } },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(String(stdout))),
      );
    });
    assert.equal(out, '{"ok":[]}\n{"ok":[]}\n');
  });

  it("rr workers and rr reset work from another directory and say when there is nothing to show", async () => {
    const workers = await runRR(["workers", "-c", join(tmp.path, ".rr.yaml")], { cwd: ROOT });
    assert.equal(workers.code, 0, workers.stderr);
    assert.equal(workers.stdout, "No plugin with workers is running.\n");
    const reset = await runRR(["reset", "-c", join(tmp.path, ".rr.yaml")], { cwd: ROOT });
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal(reset.stdout, "Nothing to reset: no plugin with workers is running.\n");
  });

  it("removes the socket file when rr stops", async () => {
    rr.signal("SIGTERM");
    assert.equal((await rr.exited).code, 0);
    assert.equal(existsSync(socket), false);
    const workers = await runRR(["workers", "-c", join(tmp.path, ".rr.yaml")]);
    assert.equal(workers.code, 1);
    assert.equal(
      workers.stderr,
      `rr is not running or rpc is not listening on unix://${socket} (no such socket file): start \`rr serve\` with an \`rpc:\` section\n`,
    );
  });
});
