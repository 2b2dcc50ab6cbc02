// The compiled linux-x64 binary (bun build --compile): built when missing or older than
// the sources, then run like a user would: --version, a config error, serve start/stop.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { binaryPath, buildTarget, isUpToDate } from "../scripts/build.ts";
import { makeTmpDir, runRR, startRR, type TmpDir } from "./helpers/index.ts";

const V3 = 'version: "3"\n';
const target = process.platform === "linux" && process.arch === "x64" ? "linux-x64" : undefined;
let bin: string;
let dir: TmpDir;

const SLOW = { timeout: 30_000 };

before(() => {
  dir = makeTmpDir("rr-binary-");
  assert.ok(target, `the binary tests run on linux-x64 (this is ${process.platform}-${process.arch})`);
  if (!isUpToDate(target)) buildTarget(target);
  bin = binaryPath(target);
}, { timeout: 120_000 });
after(() => dir.remove());

describe("compiled binary", () => {
  it("--version says it is compiled and embeds the package version", SLOW, async () => {
    const { code, stdout } = await runRR(["--version"], { bin });
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^rr version ${pkg.version.replace(/\./g, "\\.")} \\(compiled bun \\d+\\.\\d+\\.\\d+, linux-x64\\)\\n$`));
  });

  it("exits 1 on a config error with the message and no stack trace", SLOW, async () => {
    dir.write("bad/.rr.yaml", `${V3}rpc:\n  listen: 6001\n`);
    const { code, stderr } = await runRR(["serve", "-c", "bad/.rr.yaml"], { bin, cwd: dir.path });
    assert.equal(code, 1);
    assert.match(stderr, /^Cannot load config bad\/\.rr\.yaml: rpc\.listen: expected tcp:\/\/host:port or unix:\/\/\/path\/to\/socket but found "6001"\n$/);
  });

  it("serve starts, then stops on SIGTERM with exit code 0", SLOW, async () => {
    dir.write("app/.rr.yaml", `${V3}rpc:\n  listen: unix://rpc.sock\nlogs:\n  mode: production\n`);
    const rr = startRR(["serve", "-c", "app/.rr.yaml"], { bin, cwd: dir.path });
    try {
      await rr.waitForOutput(/rr serve started; version [^"]+ \(runtime compiled, target linux-x64\)/);
      // The relative socket path resolved against the config file's directory (rr chdirs there).
      assert.ok(rr.stderr.includes(`"msg":"rpc listening on unix://${join(dir.path, "app", "rpc.sock")}"`), rr.stderr);
      rr.signal("SIGTERM");
      const result = await rr.exited;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /"msg":"rr stopped"/);
    } finally {
      await rr.kill();
    }
  });
});
