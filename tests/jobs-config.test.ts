// Jobs config mistakes are reported by `rr serve` with a clear message and no stack trace.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeTmpDir, ROOT, runRR, type TmpDir } from "./helpers/index.ts";

const CONSUMER = join(ROOT, "tests/fixtures/php/jobs/consumer.php");
let dir: TmpDir;

before(() => {
  dir = makeTmpDir("rr-jobs-config-");
});
after(() => dir?.remove());

async function serve(name: string, jobsYaml: string, extra = ""): Promise<{ code: number | null; output: string }> {
  const file = dir.write(
    `${name}.yaml`,
    `version: "3"
server:
  command: "php ${CONSUMER}"
${extra}jobs:
  pool:
    num_workers: 1
${jobsYaml}`,
  );
  const result = await runRR(["serve", "-c", file], { cwd: dir.path, timeoutMs: 20_000 });
  return { code: result.code, output: result.stdout + result.stderr };
}

function assertNoStack(output: string): void {
  assert.doesNotMatch(output, /^\s+at .+:\d+:\d+/m, `a stack trace was printed:\n${output}`);
}

describe("jobs: config errors", () => {
  it("a pipeline without a driver", async () => {
    const { code, output } = await serve("no-driver", "  pipelines:\n    mail:\n      priority: 3\n");
    assert.notEqual(code, 0);
    assert.match(output, /jobs\.pipelines\.mail\.driver/);
    assert.match(output, /needs a "driver"/);
    assertNoStack(output);
  });

  it("an amqp pipeline without the global amqp section", async () => {
    const { code, output } = await serve(
      "no-amqp",
      "  consume: [q]\n  pipelines:\n    q:\n      driver: amqp\n      config:\n        queue: q\n",
    );
    assert.notEqual(code, 0);
    assert.match(output, /no global amqp configuration/);
    assert.match(output, /addr: "amqp:\/\/guest:guest@127\.0\.0\.1:5672\/"/);
    assertNoStack(output);
  });

  it("a bad amqp option value", async () => {
    const { code, output } = await serve(
      "bad-exchange",
      "  pipelines:\n    q:\n      driver: amqp\n      exchange_type: round-robin\n      queue: q\n",
      "amqp:\n  addr: amqp://guest:guest@127.0.0.1:1/\n",
    );
    assert.notEqual(code, 0);
    assert.match(output, /pipeline "q": exchange_type must be direct, fanout, topic or headers, got "round-robin"/);
    assertNoStack(output);
  });

  it("a non-numeric prefetch", async () => {
    const { code, output } = await serve("bad-prefetch", "  pipelines:\n    m:\n      driver: memory\n      prefetch: lots\n");
    assert.notEqual(code, 0);
    assert.match(output, /pipeline "m": option "prefetch" must be an integer, got "lots"/);
    assertNoStack(output);
  });
});
