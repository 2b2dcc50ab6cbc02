// The http pool through the CLI: `rr workers` lists its PHP workers, `rr reset` replaces them,
// and requests keep being served.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { freePort, runRR } from "./helpers/index.ts";
import { type RRHttp, startHttp } from "./http-helpers.ts";

let rr: RRHttp;
let rpc: string;

before(async () => {
  rpc = `tcp://127.0.0.1:${await freePort()}`;
  rr = await startHttp({ worker: "hello.php", pool: { num_workers: 2 }, http: {}, extra: { rpc: { listen: rpc } } });
});
after(async () => {
  await rr?.stop();
});

const pids = (table: string) => [...table.matchAll(/^\|\s*(\d+)\s*\|/gm)].map((m) => Number(m[1]));

describe("http workers through the CLI", () => {
  it("rr workers lists the http pool; rr reset replaces its workers", async () => {
    const listed = await runRR(["workers", "-o", `rpc.listen=${rpc}`], { cwd: rr.dir.path });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /Workers of \[http\]/);
    const before = pids(listed.stdout);
    assert.equal(before.length, 2);
    const reset = await runRR(["reset", "-o", `rpc.listen=${rpc}`], { cwd: rr.dir.path });
    assert.equal(reset.code, 0, reset.stderr);
    const after = pids((await runRR(["workers", "-o", `rpc.listen=${rpc}`], { cwd: rr.dir.path })).stdout);
    assert.equal(after.length, 2);
    assert.ok(after.every((pid) => !before.includes(pid)), `new pids ${after} vs ${before}`);
    const res = await fetch(rr.url);
    assert.equal(await res.text(), "Hello, World!");
  });
});
