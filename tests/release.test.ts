// Tests of scripts/release.ts: it builds this machine's target, packs a .tar.gz
// that plain `tar xzf` extracts, writes SHA256SUMS that `sha256sum -c` accepts,
// and the packed rr reports the package.json version, runtime and target.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { type CollectedRun, runCollected } from "./helpers/run-collected.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const HOST = `${process.platform}-${process.arch}`;
const ARCHIVE = `rr-${VERSION}-${HOST}.tar.gz`;
const OTHER = HOST === "darwin-arm64" ? "linux-x64" : "darwin-arm64";
const EPOCH = 1_767_225_600; // 2026-01-01T00:00:00Z
const BUN = typeof process.versions.bun === "string" ? process.execPath : "bun";

type RunResult = CollectedRun;

function run(cmd: string[], cwd = ROOT, extraEnv: Record<string, string> = {}, timeoutMs = 180_000): Promise<RunResult> {
  return runCollected({ cmd, cwd, env: { ...(process.env as Record<string, string>), ...extraEnv } }, timeoutMs);
}

describe("scripts/release.ts", () => {
  const work = mkdtempSync(join(tmpdir(), "rr-release-test-"));
  const out = join(work, "out");
  let release: RunResult | undefined;

  // Bun caps before() hooks at 5 s: the release runs once, lazily, under the first test's timeout.
  let ready: Promise<RunResult> | undefined;
  function releaseOnce(): Promise<RunResult> {
    ready ??= (async () => {
      mkdirSync(out);
      // Already in the directory: another target of this version (must be listed) and
      // an older version (must not be).
      writeFileSync(join(out, `rr-${VERSION}-${OTHER}.tar.gz`), "another target's archive\n");
      writeFileSync(join(out, `rr-0.0.1-${HOST}.tar.gz`), "an old release\n");
      release = await run([BUN, "scripts/release.ts", HOST, "--out-dir", out, "--reuse"], ROOT, { SOURCE_DATE_EPOCH: String(EPOCH) });
      return release;
    })();
    return ready;
  }

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("builds this machine's archive and reports the sizes", { timeout: 240_000 }, async () => {
    const res = await releaseOnce();
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, new RegExp(`${HOST}\\s+binary\\s+\\d+\\.\\d MB\\s+archive\\s+\\d+\\.\\d MB`));
    assert.deepEqual(readdirSync(out).sort(), ["SHA256SUMS", "install.sh", `rr-0.0.1-${HOST}.tar.gz`, ARCHIVE, `rr-${VERSION}-${OTHER}.tar.gz`].sort());
    assert.ok(statSync(join(out, ARCHIVE)).size < statSync(join(ROOT, "dist", `rr-${HOST}`)).size, "the archive is compressed");
    assert.equal(readFileSync(join(out, "install.sh"), "utf8"), readFileSync(join(ROOT, "scripts", "install.sh"), "utf8"));
  });

  it("writes SHA256SUMS in sha256sum format for every archive of this version and install.sh", { timeout: 240_000 }, async () => {
    await releaseOnce();
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8");
    const lines = sums.trimEnd().split("\n");
    const listed = lines.map((l) => {
      const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(l);
      assert.ok(m, `malformed SHA256SUMS line: ${l}`);
      assert.equal(m[1], createHash("sha256").update(readFileSync(join(out, m[2]))).digest("hex"));
      return m[2];
    });
    assert.deepEqual(listed.sort(), [ARCHIVE, `rr-${VERSION}-${OTHER}.tar.gz`, "install.sh"].sort());
    const check = await run(["sha256sum", "-c", "SHA256SUMS"], out);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });

  it("packs rr, LICENSE and README.md so that plain `tar xzf` extracts them", { timeout: 240_000 }, async () => {
    await releaseOnce();
    const x = join(work, "x");
    mkdirSync(x);
    const untar = await run(["tar", "xzf", join(out, ARCHIVE)], x);
    assert.equal(untar.code, 0, untar.stderr);
    assert.equal(untar.stderr, "");
    assert.deepEqual(readdirSync(x).sort(), ["LICENSE", "README.md", "rr"]);
    assert.equal(statSync(join(x, "rr")).mode & 0o777, 0o755);
    assert.equal(statSync(join(x, "LICENSE")).mode & 0o777, 0o644);
    assert.deepEqual(readFileSync(join(x, "LICENSE")), readFileSync(join(ROOT, "LICENSE")));
    assert.deepEqual(readFileSync(join(x, "README.md")), readFileSync(join(ROOT, "README.md")));
    assert.match(readFileSync(join(x, "LICENSE"), "utf8"), /MIT License[\s\S]*Copyright \(c\) 2026 the rr authors/);

    const version = await run([join(x, "rr"), "--version"], x);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim().split("\n").length, 1);
    assert.match(version.stdout, new RegExp(`^rr version ${VERSION.replaceAll(".", "\\.")} \\(compiled bun \\d+\\.\\d+\\.\\d+, ${HOST}\\)$`, "m"));
  });

  it("stamps archive members with SOURCE_DATE_EPOCH and root ownership (reproducible)", { timeout: 240_000 }, async () => {
    await releaseOnce();
    const tar = gunzipSync(readFileSync(join(out, ARCHIVE)));
    const field = (offset: number, len: number): string => new TextDecoder().decode(tar.subarray(offset, offset + len)).replace(/\0.*$/s, "");
    assert.equal(field(0, 100), "rr");
    assert.equal(parseInt(field(136, 12), 8), EPOCH);
    assert.equal(parseInt(field(108, 8), 8), 0);
    assert.equal(field(257, 6), "ustar");
    assert.equal(tar.length % 10240, 0);
  });

  it("refuses an unknown target with one clear line and no stack trace", { timeout: 60_000 }, async () => {
    const res = await run([BUN, "scripts/release.ts", "windows-x64", "--out-dir", join(work, "nothing")]);
    assert.equal(res.code, 1);
    assert.equal(res.stderr.trim(), 'release: Unknown target "windows-x64": choose from linux-x64, linux-arm64, darwin-x64, darwin-arm64');
    assert.equal(res.stdout, "");
  });
});
