// End-to-end tests of scripts/install.sh (run by /bin/sh, dash here) and of the
// CI snippet examples/ci/setup-rr.sh, against a local HTTP server that serves a
// real release built by scripts/release.ts.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, copyFileSync, existsSync, symlinkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { getPlatform } from "../src/platform/index.ts";
import type { HttpServer } from "../src/platform/index.ts";
import { type CollectedRun, runCollected } from "./helpers/run-collected.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const HOST = `${process.platform}-${process.arch}`;
const ARCHIVE = `rr-${VERSION}-${HOST}.tar.gz`;
const INSTALLER = join(ROOT, "scripts", "install.sh");
const SETUP_SNIPPET = join(ROOT, "examples", "ci", "setup-rr.sh");
const WORKFLOW = join(ROOT, "examples", "ci", "github-actions.yml");
const STAND_IN = `#!/bin/sh\necho 'rr version ${VERSION} (stand-in, ${HOST})'\n`;
const HELLO_WORKER = join(ROOT, "tests", "fixtures", "php", "http", "hello.php");

interface WorkflowStep {
  name?: string;
  run?: string;
  uses?: string;
}
interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, { steps: WorkflowStep[] }>;
}

/** A TCP port that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  const listener = await getPlatform().listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 }, { onOpen: () => {}, onData: () => {} });
  const address = listener.address;
  await listener.close();
  assert.equal(address.transport, "tcp");
  return address.transport === "tcp" ? address.port : 0;
}

type RunResult = CollectedRun;

/** Runs a command to completion (killed after `timeoutMs`), collecting its output. */
function run(cmd: string[], env: Record<string, string>, cwd = ROOT, timeoutMs = 60_000, uid?: number): Promise<RunResult> {
  return runCollected({ cmd, cwd, env, uid, gid: uid }, timeoutMs);
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe("install.sh against a local release server", () => {
  let work = "";
  let server: HttpServer | undefined;
  let baseUrl = "";
  const requests: string[] = [];
  const stalled: ReadableStreamDefaultController<Uint8Array>[] = [];

  /** A clean environment: no RR_INSTALL_* leaking in from outside; mktemp goes to our own TMPDIR. */
  function env(extra: Record<string, string>): Record<string, string> {
    return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(work, "home"), TMPDIR: join(work, "tmp"), ...extra };
  }

  function installer(extra: Record<string, string>, cwd = ROOT): Promise<RunResult> {
    return run(["sh", INSTALLER], env(extra), cwd);
  }

  /** The failure contract: exactly one error line, only our own lines on stderr, mktemp dir removed. */
  function assertRefused(res: RunResult, exitCode: number, pattern: RegExp): void {
    assert.equal(res.code, exitCode, `exit code; stderr:\n${res.stderr}`);
    const lines = res.stderr.trim().split("\n");
    const errors = lines.filter((l) => l.startsWith("rr-install: error: "));
    assert.equal(errors.length, 1, res.stderr);
    assert.match(errors[0], pattern);
    for (const l of lines) assert.ok(l.startsWith("rr-install: "), `unexpected stderr line: ${l}`);
    assert.deepEqual(readdirSync(join(work, "tmp")), [], "temp files left behind");
  }

  /** Builds a small archive whose rr is a shell script, with a matching SHA256SUMS. */
  async function fakeRelease(name: string, script: string): Promise<void> {
    const dir = join(work, name);
    const stage = join(work, `${name}-stage`);
    mkdirSync(dir);
    mkdirSync(stage);
    writeFileSync(join(stage, "rr"), script);
    chmodSync(join(stage, "rr"), 0o755);
    const tar = await run(["tar", "czf", join(dir, ARCHIVE), "-C", stage, "rr"], env({}));
    assert.equal(tar.code, 0, tar.stderr);
    writeFileSync(join(dir, "SHA256SUMS"), `${sha256(join(dir, ARCHIVE))}  ${ARCHIVE}\n`);
  }

  // Bun caps before() hooks at 5 s, so the slow setup (building the release) runs
  // once, lazily, inside the first test that needs it, under that test's timeout.
  let ready: Promise<void> | undefined;
  function setup(): Promise<void> {
    ready ??= prepare();
    return ready;
  }

  async function prepare(): Promise<void> {
    // Build (or reuse a fresh) release for this machine into dist/.
    const bun = typeof process.versions.bun === "string" ? process.execPath : "bun";
    const built = await run([bun, "scripts/release.ts", HOST, "--reuse"], { ...process.env } as Record<string, string>, ROOT, 180_000);
    assert.equal(built.code, 0, `release.ts failed:\n${built.stdout}\n${built.stderr}`);

    work = mkdtempSync(join(tmpdir(), "rr-install-test-"));
    mkdirSync(join(work, "home"));
    mkdirSync(join(work, "tmp"));
    const dist = join(ROOT, "dist");
    const sums = readFileSync(join(dist, "SHA256SUMS"), "utf8");
    const line = sums.split("\n").find((l) => l.endsWith(`  ${ARCHIVE}`));
    assert.ok(line, `dist/SHA256SUMS lists no ${ARCHIVE}`);
    // "release": the real archive; only this machine's archive is listed.
    mkdirSync(join(work, "release"));
    copyFileSync(join(dist, ARCHIVE), join(work, "release", ARCHIVE));
    copyFileSync(join(dist, "install.sh"), join(work, "release", "install.sh"));
    writeFileSync(join(work, "release", "SHA256SUMS"), `${line}\n`);
    // "expected": the rr inside the served archive (dist/ may be rebuilt meanwhile by other tests).
    mkdirSync(join(work, "expected"));
    const untar = await run(["tar", "xzf", join(work, "release", ARCHIVE), "-C", join(work, "expected"), "rr"], env({}));
    assert.equal(untar.code, 0, untar.stderr);
    // "tampered": one byte of the archive changed, SHA256SUMS as published.
    mkdirSync(join(work, "tampered"));
    const bytes = readFileSync(join(dist, ARCHIVE));
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(join(work, "tampered", ARCHIVE), bytes);
    writeFileSync(join(work, "tampered", "SHA256SUMS"), `${line}\n`);

    // "mirror": a release of a small stand-in rr (a script printing the version), for tests
    // whose subject is not the binary itself.
    await fakeRelease("mirror", STAND_IN);
    await fakeRelease("plain", STAND_IN);
    mkdirSync(join(work, "plain-tampered"));
    const plainBytes = readFileSync(join(work, "plain", ARCHIVE));
    plainBytes[plainBytes.length >> 1] ^= 0xff;
    writeFileSync(join(work, "plain-tampered", ARCHIVE), plainBytes);
    copyFileSync(join(work, "plain", "SHA256SUMS"), join(work, "plain-tampered", "SHA256SUMS"));
    // Written on Windows in binary mode: CRLF line ends and a '*' before the name.
    const mirrorSums = readFileSync(join(work, "mirror", "SHA256SUMS"), "utf8").trim().replace("  ", " *");
    writeFileSync(join(work, "mirror", "SHA256SUMS"), `${mirrorSums}\r\n`);
    copyFileSync(join(dist, "install.sh"), join(work, "mirror", "install.sh"));

    server = await getPlatform().serveHttp({
      hostname: "127.0.0.1",
      port: 0,
      handler: (req) => {
        const path = decodeURIComponent(new URL(req.url).pathname);
        requests.push(path);
        if (path === `/stalled/${ARCHIVE}`) {
          // Sends the first 64 KiB of the archive, then nothing: a download in progress.
          return new Response(
            new ReadableStream<Uint8Array>({
              start(controller) {
                controller.enqueue(new Uint8Array(65536));
                stalled.push(controller);
              },
            }),
            { headers: { "content-length": String(statSync(join(work, "release", ARCHIVE)).size) } },
          );
        }
        if (path === "/stalled/SHA256SUMS") return new Response(readFileSync(join(work, "release", "SHA256SUMS")));
        const file = join(work, path);
        if (path.includes("..") || !existsSync(file) || !file.startsWith(work)) return new Response("not found", { status: 404 });
        return new Response(readFileSync(file));
      },
    });
    baseUrl = `http://127.0.0.1:${server.port}`;
  }

  after(async () => {
    for (const controller of stalled) controller.error(new Error("test over"));
    await server?.stop(true);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("installs the latest release from RR_INSTALL_BASE_URL, verified, into RR_INSTALL_DIR", { timeout: 240_000 }, async () => {
    await setup();
    const dir = join(work, "latest-bin");
    requests.length = 0;
    const res = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/release/`, RR_INSTALL_DIR: dir });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`installed rr ${VERSION.replaceAll(".", "\\.")} \\(${HOST}\\) to ${dir}/rr`));
    assert.match(res.stderr, /is not on your PATH/);
    // Only static files: no API, no redirects to anything else.
    assert.deepEqual(requests, ["/release/SHA256SUMS", `/release/${ARCHIVE}`]);
    assert.deepEqual(readdirSync(dir), ["rr"]);
    assert.equal(sha256(join(dir, "rr")), sha256(join(work, "expected", "rr")));
    const version = await run([join(dir, "rr"), "--version"], env({}));
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, new RegExp(`version ${VERSION.replaceAll(".", "\\.")}\\b.*compiled.*${HOST}`));
    assert.deepEqual(readdirSync(join(work, "tmp")), []);
  });

  it("upgrades an existing rr in place with a pinned version, using wget", { timeout: 240_000 }, async () => {
    await setup();
    const dir = join(work, "upgrade-bin");
    mkdirSync(dir);
    writeFileSync(join(dir, "rr"), "#!/bin/sh\necho 'rr version 0.0.1 (old)'\n");
    chmodSync(join(dir, "rr"), 0o755);
    const res = await installer({
      RR_INSTALL_BASE_URL: `${baseUrl}/release`,
      RR_INSTALL_DIR: dir,
      RR_INSTALL_VERSION: `v${VERSION}`,
      RR_INSTALL_DOWNLOADER: "wget",
      PATH: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /replaced rr version 0\.0\.1 \(old\)/);
    assert.doesNotMatch(res.stderr, /not on your PATH/);
    assert.deepEqual(readdirSync(dir), ["rr"]);
    const version = await run([join(dir, "rr"), "--version"], env({}));
    assert.match(version.stdout, new RegExp(`version ${VERSION.replaceAll(".", "\\.")}\\b`));
  });

  it("installs from a local directory (air-gapped mirror, no downloader used)", { timeout: 240_000 }, async () => {
    await setup();
    // The small stand-in release keeps this fast: what is tested is the file:// and plain-path fetch.
    for (const base of [`file://${join(work, "mirror")}`, join(work, "mirror"), "../mirror"]) {
      const dir = join(work, "local-bin");
      rmSync(dir, { recursive: true, force: true });
      requests.length = 0;
      // (relative paths are relative to where the installer runs: here, work/home)
      const res = await installer({ RR_INSTALL_BASE_URL: base, RR_INSTALL_DIR: dir, RR_INSTALL_DOWNLOADER: "none" }, join(work, "home"));
      assert.equal(res.code, 0, res.stderr);
      assert.equal(readFileSync(join(dir, "rr"), "utf8"), STAND_IN);
      assert.deepEqual(requests, []);
    }
  });

  it("installs into ~/.local/bin by default for a regular user", { timeout: 240_000 }, async () => {
    await setup();
    const home = join(work, "user-home");
    const userTmp = join(work, "user-tmp");
    mkdirSync(home);
    mkdirSync(userTmp);
    // As root, run the installer as "nobody" (what a regular user gets); otherwise we are one.
    let uid: number | undefined;
    if (process.getuid?.() === 0) {
      uid = 65534;
      chmodSync(work, 0o755);
      chownSync(home, uid, uid);
      chownSync(userTmp, uid, uid);
    }
    // A copy the user can read wherever the checkout lives (e.g. under a 0700 /root).
    const script = join(work, "user-install.sh");
    copyFileSync(INSTALLER, script);
    chmodSync(script, 0o644);
    const res = await run(["sh", script], { ...env({ RR_INSTALL_BASE_URL: `${baseUrl}/mirror` }), HOME: home, TMPDIR: userTmp }, "/", 60_000, uid);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(readFileSync(join(home, ".local", "bin", "rr"), "utf8"), STAND_IN);
    assert.match(res.stderr, new RegExp(`installed rr ${VERSION.replaceAll(".", "\\.")} \\(${HOST}\\) to ${home}/\\.local/bin/rr`));
    assert.deepEqual(readdirSync(userTmp), []);
  });

  it("refuses an install directory it cannot create or that is taken by a directory", { timeout: 240_000 }, async () => {
    await setup();
    const proc = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/mirror`, RR_INSTALL_DIR: "/proc/rr-install-test" });
    assertRefused(proc, 1, /cannot create \/proc\/rr-install-test: set RR_INSTALL_DIR to a writable directory/);
    const taken = join(work, "taken-bin");
    mkdirSync(join(taken, "rr"), { recursive: true });
    const dirInTheWay = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/mirror`, RR_INSTALL_DIR: taken });
    assertRefused(dirInTheWay, 2, /taken-bin\/rr is a directory; remove it or set RR_INSTALL_DIR/);
    assert.deepEqual(readdirSync(join(taken, "rr")), []);
  });

  it("refuses a tampered archive and leaves the existing rr untouched", { timeout: 240_000 }, async () => {
    await setup();
    const dir = join(work, "tamper-bin");
    mkdirSync(dir);
    const old = "#!/bin/sh\necho 'rr version 0.0.1'\n";
    writeFileSync(join(dir, "rr"), old);
    const res = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/tampered`, RR_INSTALL_DIR: dir });
    assertRefused(res, 4, new RegExp(`checksum mismatch for ${ARCHIVE.replaceAll(".", "\\.")}: expected [0-9a-f]{64}, got [0-9a-f]{64}.*nothing was installed`));
    assert.deepEqual(readdirSync(dir), ["rr"]);
    assert.equal(readFileSync(join(dir, "rr"), "utf8"), old);
  });

  it("honours a hash pinned with RR_INSTALL_SHA256 and refuses a release that disagrees", { timeout: 240_000 }, async () => {
    await setup();
    const dir = join(work, "pinned-bin");
    const listed = sha256(join(work, "mirror", ARCHIVE));
    const ok = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/mirror`, RR_INSTALL_DIR: dir, RR_INSTALL_SHA256: listed.toUpperCase() });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(readFileSync(join(dir, "rr"), "utf8"), STAND_IN);

    const other = join(work, "pinned-other-bin");
    requests.length = 0;
    const pin = "ab".repeat(32);
    const changed = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/mirror`, RR_INSTALL_DIR: other, RR_INSTALL_SHA256: pin });
    assertRefused(changed, 4, new RegExp(`SHA256SUMS lists ${listed} for ${ARCHIVE.replaceAll(".", "\\.")} but RR_INSTALL_SHA256 pins ${pin}`));
    assert.deepEqual(requests, ["/mirror/SHA256SUMS"], "refused before downloading the archive");
    const malformed = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/mirror`, RR_INSTALL_DIR: other, RR_INSTALL_SHA256: "1234" });
    assertRefused(malformed, 2, /invalid RR_INSTALL_SHA256 '1234': expected 64 hex digits/);
    assert.equal(existsSync(other), false);
  });

  it("verifies with shasum (macOS) or openssl when sha256sum is missing, and refuses with none", { timeout: 240_000 }, async () => {
    await setup();
    // A PATH holding only the tools install.sh uses, and one SHA-256 tool (or none).
    const tools = ["uname", "id", "mktemp", "rm", "curl", "head", "awk", "tr", "tar", "gzip", "mkdir", "chmod", "cp", "mv", "cut", "sed", "grep", "tail"];
    const which = (tool: string): string | undefined =>
      (process.env.PATH ?? "").split(":").map((d) => join(d, tool)).find((p) => existsSync(p));
    for (const hasher of ["shasum", "openssl", ""]) {
      const bin = join(work, `path-${hasher || "none"}`);
      mkdirSync(bin);
      for (const tool of hasher ? [...tools, hasher] : tools) {
        const found = which(tool);
        assert.ok(found, `${tool} is needed for this test`);
        symlinkSync(found, join(bin, tool));
      }
      const dir = join(work, `hasher-${hasher || "none"}-bin`);
      const res = await run(["/bin/sh", INSTALLER], env({ PATH: bin, RR_INSTALL_BASE_URL: `${baseUrl}/mirror`, RR_INSTALL_DIR: dir }));
      if (hasher) {
        assert.equal(res.code, 0, `${hasher}: ${res.stderr}`);
        assert.equal(readFileSync(join(dir, "rr"), "utf8"), STAND_IN);
      } else {
        assertRefused(res, 2, /no SHA-256 tool found \(sha256sum, shasum or openssl\): refusing to install an unverified download/);
        assert.equal(existsSync(dir), false);
      }
    }
  });

  it("prints its manual with --help and refuses arguments", async () => {
    await setup();
    const manual = await run(["sh", INSTALLER, "--help"], env({}));
    assert.equal(manual.code, 0, manual.stderr);
    for (const name of ["RR_INSTALL_VERSION", "RR_INSTALL_BASE_URL", "RR_INSTALL_DIR", "RR_INSTALL_SHA256", "Exit codes"]) assert.match(manual.stdout, new RegExp(name));
    const positional = await run(["sh", INSTALLER, "0.1.0"], env({}));
    assertRefused(positional, 2, /install\.sh takes no arguments \('0\.1\.0'\); set RR_INSTALL_VERSION/);
  });

  it("refuses an unsupported CPU or OS before downloading anything", { timeout: 240_000 }, async () => {
    await setup();
    const dir = join(work, "unsupported-bin");
    requests.length = 0;
    const arch = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/release`, RR_INSTALL_DIR: dir, RR_INSTALL_ARCH: "riscv64" });
    assertRefused(arch, 2, /unsupported CPU architecture 'riscv64': rr ships binaries for x64 and arm64 only/);
    const os = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/release`, RR_INSTALL_DIR: dir, RR_INSTALL_OS: "FreeBSD" });
    assertRefused(os, 2, /unsupported operating system 'FreeBSD'/);
    assert.deepEqual(requests, []);
    assert.equal(existsSync(dir), false);
  });

  it("reports a failed download (HTTP 404) with curl and with wget", { timeout: 240_000 }, async () => {
    await setup();
    const dir = join(work, "404-bin");
    for (const downloader of ["curl", "wget"]) {
      const res = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/no-such-release`, RR_INSTALL_DIR: dir, RR_INSTALL_DOWNLOADER: downloader });
      assertRefused(res, 3, new RegExp(`download failed: ${baseUrl}/no-such-release/SHA256SUMS answered HTTP 404`));
    }
    // The archive itself missing (listed but not served): same refusal, nothing installed.
    mkdirSync(join(work, "no-archive"));
    copyFileSync(join(work, "release", "SHA256SUMS"), join(work, "no-archive", "SHA256SUMS"));
    const res = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/no-archive`, RR_INSTALL_DIR: dir });
    assertRefused(res, 3, new RegExp(`download failed: .*/no-archive/${ARCHIVE.replaceAll(".", "\\.")} answered HTTP 404`));
    assert.equal(existsSync(dir), false);
  });

  it("refuses a version or a platform the release does not list", { timeout: 240_000 }, async () => {
    await setup();
    const dir = join(work, "unlisted-bin");
    const version = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/release`, RR_INSTALL_DIR: dir, RR_INSTALL_VERSION: "99.0.0" });
    assertRefused(version, 3, new RegExp(`lists no rr-99\\.0\\.0-${HOST}\\.tar\\.gz`));
    const other = HOST.endsWith("arm64") ? "x64" : "arm64";
    const arch = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/release`, RR_INSTALL_DIR: dir, RR_INSTALL_ARCH: other });
    assertRefused(arch, 3, new RegExp(`lists no rr archive for ${process.platform}-${other}`));
    mkdirSync(join(work, "multi"));
    const zeros = "0".repeat(64);
    writeFileSync(join(work, "multi", "SHA256SUMS"), `${zeros}  rr-0.0.1-${HOST}.tar.gz\n${zeros}  rr-0.0.2-${HOST}.tar.gz\n`);
    const several = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/multi`, RR_INSTALL_DIR: dir });
    assertRefused(several, 2, /lists several versions for .*; set RR_INSTALL_VERSION/);
    const bad = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/release`, RR_INSTALL_DIR: dir, RR_INSTALL_VERSION: "1.0;rm" });
    assertRefused(bad, 2, /invalid RR_INSTALL_VERSION '1\.0;rm'/);
    assert.equal(existsSync(dir), false);
  });

  it("refuses a verified binary that does not run here or reports another version", { timeout: 240_000 }, async () => {
    await setup();
    const dir = join(work, "broken-bin");
    await fakeRelease("crashing", "#!/bin/sh\necho 'Illegal instruction' >&2\nexit 132\n");
    await fakeRelease("mislabelled", "#!/bin/sh\necho 'rr version 9.9.9 (compiled bun, elsewhere)'\n");
    const crash = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/crashing`, RR_INSTALL_DIR: dir });
    assertRefused(crash, 5, /the downloaded rr does not run on this machine \(Illegal instruction\)/);
    const wrong = await installer({ RR_INSTALL_BASE_URL: `${baseUrl}/mislabelled`, RR_INSTALL_DIR: dir });
    assertRefused(wrong, 5, new RegExp(`reports 'rr version 9\\.9\\.9.*', expected version ${VERSION.replaceAll(".", "\\.")}`));
    assert.equal(existsSync(dir), false);
  });

  it("Ctrl-C during the download leaves nothing behind", { timeout: 240_000 }, async () => {
    await setup();
    const dir = join(work, "interrupted-bin");
    requests.length = 0;
    const child = getPlatform().spawn({
      cmd: ["sh", INSTALLER],
      env: env({ RR_INSTALL_BASE_URL: `${baseUrl}/stalled`, RR_INSTALL_DIR: dir }),
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    try {
      for (let i = 0; i < 500 && !requests.includes(`/stalled/${ARCHIVE}`); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(requests.includes(`/stalled/${ARCHIVE}`), "the installer never started the archive download");
      await new Promise((r) => setTimeout(r, 200));
      assert.notDeepEqual(readdirSync(join(work, "tmp")), [], "the download should be in progress in TMPDIR");
      // What a terminal does on Ctrl-C: SIGINT to the whole foreground process group.
      getPlatform().kill(-child.pid, "SIGINT");
      const guard = setTimeout(() => getPlatform().kill(-child.pid, "SIGKILL"), 15_000);
      const status = await child.exited;
      clearTimeout(guard);
      assert.equal(status.code, 130);
    } finally {
      getPlatform().kill(-child.pid, "SIGKILL");
    }
    assert.deepEqual(readdirSync(join(work, "tmp")), []);
    assert.equal(existsSync(join(dir, "rr")), false);
  });

  it("CI snippet (examples/ci/setup-rr.sh) installs the pinned version once, then hits the cache", { timeout: 240_000 }, async () => {
    await setup();
    const cache = join(work, "ci-cache");
    const githubPath = join(work, "github_path");
    writeFileSync(githubPath, "");
    const ciEnv = env({ RR_VERSION: VERSION, RR_CACHE_DIR: cache, RR_INSTALL_BASE_URL: `${baseUrl}/mirror`, GITHUB_PATH: githubPath });
    requests.length = 0;
    const first = await run(["sh", SETUP_SNIPPET], ciEnv);
    assert.equal(first.code, 0, first.stderr);
    const binDir = first.stdout.trim();
    assert.equal(binDir, join(cache, VERSION));
    assert.deepEqual(requests, ["/mirror/install.sh", "/mirror/SHA256SUMS", `/mirror/${ARCHIVE}`]);
    assert.equal(readFileSync(githubPath, "utf8"), `${binDir}\n`);
    assert.equal(readFileSync(join(binDir, "rr"), "utf8"), STAND_IN);

    requests.length = 0;
    const second = await run(["sh", SETUP_SNIPPET], ciEnv);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), binDir);
    assert.match(second.stderr, /cached/);
    assert.deepEqual(requests, [], "a cache hit must not download anything");

    // A failing download must fail the CI step, not pass silently.
    const broken = await run(["sh", SETUP_SNIPPET], { ...ciEnv, RR_CACHE_DIR: join(work, "ci-cache-2"), RR_INSTALL_BASE_URL: `${baseUrl}/no-such-release` });
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /404/);
    assert.equal(existsSync(join(work, "ci-cache-2", VERSION, "rr")), false);
  });

  it("the README's Install commands work as written (release URLs pointed at the local server)", { timeout: 240_000 }, async () => {
    await setup();
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const install = readme.slice(readme.indexOf("\n## Install"));
    const releases = "https://github.com/rr-server/rr/releases";
    const latest = install.split("\n").find((l) => l.startsWith(`curl -fsSL ${releases}/latest/download/install.sh | sh`));
    const pinned = install.split("\n").find((l) => l.startsWith(`curl -fsSL ${releases}/download/v`));
    const ci = install.split("\n").find((l) => l.startsWith("RR_VERSION="));
    assert.ok(latest && pinned && ci, "README Install section lost its latest, pinned or CI command");
    assert.ok(pinned.includes(`/download/v${VERSION}/`) && pinned.includes(`RR_INSTALL_VERSION=${VERSION} `), "README pins the current version");
    assert.ok(ci.startsWith(`RR_VERSION=${VERSION};`), "README's CI line pins the current version");
    const local = (line: string): string =>
      line.replaceAll(`${releases}/latest/download`, `${baseUrl}/mirror`).replaceAll(`${releases}/download/v${VERSION}`, `${baseUrl}/mirror`).replaceAll(`${releases}/download/v$RR_VERSION`, `${baseUrl}/mirror`).replaceAll("/tmp/", `${join(work, "tmp")}/`);
    // The installer itself still reads its files from the mirror, as a mirror user would.
    const shellEnv = env({ RR_INSTALL_BASE_URL: `${baseUrl}/mirror`, HOME: join(work, "readme-home") });
    mkdirSync(join(work, "readme-home"));

    // (The default directory depends on being root, so the test names one.)
    const newest = await run(["sh", "-c", local(latest.replace(/\s+#.*$/, ""))], { ...shellEnv, RR_INSTALL_DIR: join(work, "readme-latest") });
    assert.equal(newest.code, 0, newest.stderr);
    assert.equal(readFileSync(join(work, "readme-latest", "rr"), "utf8"), STAND_IN);
    const first = await run(["sh", "-c", local(pinned.replace(/\s+#.*$/, ""))], { ...shellEnv, RR_INSTALL_DIR: join(work, "readme-bin") });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readFileSync(join(work, "readme-bin", "rr"), "utf8"), STAND_IN);

    requests.length = 0;
    const second = await run(["sh", "-c", `${local(ci)} && rr --version && command -v rr`], shellEnv);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`rr version ${VERSION.replaceAll(".", "\\.")} \\(stand-in`));
    assert.equal(second.stdout.trim().split("\n").pop(), join(work, "readme-home", ".cache", "rr", VERSION, "rr"));
    assert.deepEqual(requests, ["/mirror/install.sh", "/mirror/SHA256SUMS", `/mirror/${ARCHIVE}`]);
    requests.length = 0;
    const cached = await run(["sh", "-c", `${local(ci)} && rr --version`], shellEnv);
    assert.equal(cached.code, 0, cached.stderr);
    assert.deepEqual(requests, [], "the CI line downloads nothing on a cache hit");
    rmSync(join(work, "tmp", "rr-install.sh"), { force: true });
  });

  it("docs/INSTALL.md's by-hand steps install a verified rr, and stop at a tampered archive", { timeout: 240_000 }, async () => {
    await setup();
    const doc = readFileSync(join(ROOT, "docs", "INSTALL.md"), "utf8");
    const section = doc.slice(doc.indexOf("### By hand"));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(block, "docs/INSTALL.md lost its by-hand block");
    assert.match(block, new RegExp(`^v=${VERSION.replaceAll(".", "\\.")}; target=linux-x64 `, "m"), "the by-hand steps pin the current version");
    // (served from a stand-in release: what is tested is the steps, not the binary)
    for (const served of ["plain", "plain-tampered"]) {
      const home = join(work, `by-hand-${served}`);
      mkdirSync(home);
      const script = block
        .replaceAll("https://github.com/rr-server/rr/releases/download/v$v", `${baseUrl}/${served}`)
        .replace("target=linux-x64", `target=${HOST}`);
      const res = await run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env({ HOME: home }), home);
      if (served === "plain") {
        assert.equal(res.code, 0, res.stdout + res.stderr);
        assert.equal(readFileSync(join(home, ".local", "bin", "rr"), "utf8"), STAND_IN);
      } else {
        assert.notEqual(res.code, 0);
        assert.match(res.stdout + res.stderr, /FAILED/);
        assert.equal(existsSync(join(home, ".local", "bin", "rr")), false);
      }
    }
  });

  it("examples/ci/github-actions.yml: its run steps install rr, start it, pass /health, serve requests, stop it", { timeout: 240_000 }, async () => {
    await setup();
    const workflow = parseYaml(readFileSync(WORKFLOW, "utf8")) as Workflow;
    assert.equal(workflow.env.RR_VERSION, VERSION, "the example pins the current release");
    const steps = Object.values(workflow.jobs)[0].steps.filter((s): s is WorkflowStep & { run: string; name: string } => typeof s.run === "string");
    assert.deepEqual(steps.map((s) => s.name), ["Install PHP dependencies", "Install rr", "Start rr", "Smoke requests", "Stop rr"]);
    for (const step of steps) assert.doesNotMatch(step.run, /\$\{\{/, `${step.name} must be plain bash`);

    // The runner's world: the app checkout, RUNNER_TEMP, GITHUB_PATH, HOME (with the rr cache).
    const app = join(work, "gha-app");
    const runnerTemp = join(work, "gha-temp");
    const githubPath = join(work, "gha-path");
    mkdirSync(app);
    mkdirSync(runnerTemp);
    writeFileSync(githubPath, "");
    writeFileSync(join(app, ".rr.yaml"), `version: "3"\nserver:\n  command: "php ${HELLO_WORKER}"\nhttp:\n  address: 127.0.0.1:8080\n  pool:\n    num_workers: 1\n`);
    const stepEnv = {
      ...workflow.env,
      APP_ADDR: `127.0.0.1:${await freePort()}`,
      STATUS_ADDR: `127.0.0.1:${await freePort()}`,
      HOME: join(work, "gha-home"),
      RUNNER_TEMP: runnerTemp,
      GITHUB_PATH: githubPath,
      RR_INSTALL_BASE_URL: `${baseUrl}/release`,
      TMPDIR: join(work, "tmp"),
    };
    // Like the runner: each step is `bash -eo pipefail`, with GITHUB_PATH entries prepended to PATH.
    const runStep = (step: { run: string }): Promise<RunResult> => {
      const added = readFileSync(githubPath, "utf8").split("\n").filter(Boolean).reverse();
      const path = [...added, process.env.PATH ?? "/usr/bin:/bin"].join(":");
      return run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], { ...stepEnv, PATH: path }, app);
    };
    const results = new Map<string, RunResult>();
    try {
      for (const step of steps.slice(0, -1)) {
        const res = await runStep(step);
        results.set(step.name, res);
        assert.equal(res.code, 0, `step "${step.name}" failed:\n${res.stdout}\n${res.stderr}`);
      }
    } finally {
      // "Stop rr" has `if: always()`.
      const stop = await runStep(steps[steps.length - 1]);
      results.set("Stop rr", stop);
      const pidFile = join(runnerTemp, "rr.pid");
      if (existsSync(pidFile)) getPlatform().kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    }
    assert.match(results.get("Install rr")?.stderr ?? "", /installed rr/);
    const start = results.get("Start rr")?.stdout ?? "";
    assert.match(start, new RegExp(`rr version ${VERSION.replaceAll(".", "\\.")} \\(compiled`));
    assert.match(start, /rr is healthy/);
    const smoke = (results.get("Smoke requests")?.stdout ?? "").trim().split("\n");
    assert.equal(smoke.length, 20);
    for (const line of smoke) assert.match(line, /^GET \/ -> 200 in /);
    const stop = results.get("Stop rr");
    assert.equal(stop?.code, 0, stop?.stdout);
    assert.match(stop?.stdout ?? "", new RegExp(`rr stopped[\\s\\S]*rr serve started; version ${VERSION.replaceAll(".", "\\.")} \\(runtime compiled, target ${HOST}\\)`));
    assert.equal(getPlatform().kill(Number(readFileSync(join(runnerTemp, "rr.pid"), "utf8")), "SIGTERM"), false, "rr is gone");
  });
});
