// rr runs from source with nothing but the runtime: a clean copy of src/,
// package.json and deno.json (no node_modules, no install step) under Bun and
// under Deno, and under Deno straight from a URL. It reports where it runs in
// `--version` and in the `rr serve` startup log.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getPlatform } from "../src/platform/index.ts";
import type { ChildProcess } from "../src/platform/index.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const V = VERSION.replaceAll(".", "\\.");
const HOST = `${process.platform}-${process.arch}`;

interface Started {
  child: ChildProcess;
  output: () => string;
}

function start(cmd: string[], cwd: string): Started {
  const chunks: Uint8Array[] = [];
  const child = getPlatform().spawn({
    cmd,
    cwd,
    env: { ...(process.env as Record<string, string>), NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    onStdout: (c) => chunks.push(c),
    onStderr: (c) => chunks.push(c),
  });
  return { child, output: () => new TextDecoder().decode(Buffer.concat(chunks)) };
}

/** Runs to completion (killed after 60 s); returns exit code and combined output. */
async function run(cmd: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const p = start(cmd, cwd);
  const timer = setTimeout(() => p.child.killGroup("SIGKILL"), 60_000);
  try {
    const status = await p.child.exited;
    return { code: status.code, output: p.output() };
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `rr serve`, waits for the startup line, stops it with SIGTERM; returns the output. */
async function serveAndStop(cmd: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const p = start(cmd, cwd);
  const deadline = Date.now() + 30_000;
  try {
    while (!/rr serve started/.test(p.output()) && Date.now() < deadline) {
      const exited = await Promise.race([p.child.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))]);
      if (exited) break;
    }
  } finally {
    p.child.kill("SIGTERM");
  }
  const timer = setTimeout(() => p.child.killGroup("SIGKILL"), 15_000);
  const status = await p.child.exited;
  clearTimeout(timer);
  return { code: status.code, output: p.output() };
}

/** A fresh copy of what the README tells users to fetch: src/, package.json, deno.json. */
function cleanCopy(parent: string, name: string): string {
  const dir = join(parent, name);
  mkdirSync(dir);
  cpSync(join(ROOT, "src"), join(dir, "src"), { recursive: true });
  copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
  copyFileSync(join(ROOT, "deno.json"), join(dir, "deno.json"));
  assert.equal(existsSync(join(dir, "node_modules")), false);
  return dir;
}

describe("running rr from source, nothing installed", () => {
  const work = mkdtempSync(join(tmpdir(), "rr-from-source-"));
  // The user's app directory: rr is run from here, by path.
  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(join(app, ".rr.yaml"), 'version: "3"\n');

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("has no node_modules anywhere above the copies", () => {
    // Otherwise Bun would resolve packages from there instead of auto-installing.
    for (let dir = work; dir !== dirname(dir); dir = dirname(dir)) {
      assert.equal(existsSync(join(dir, "node_modules")), false, `${dir}/node_modules exists`);
    }
  });

  it("bun <copy>/src/main.ts --version and serve", { timeout: 90_000 }, async () => {
    const copy = cleanCopy(work, "rr-for-bun");
    const version = await run(["bun", join(copy, "src", "main.ts"), "--version"], app);
    assert.equal(version.code, 0, version.output);
    assert.match(version.output, new RegExp(`^rr version ${V} \\(bun \\d+\\.\\d+\\.\\d+\\S*, ${HOST}\\)$`, "m"));
    const served = await serveAndStop(["bun", join(copy, "src", "main.ts"), "serve"], app);
    assert.match(served.output, new RegExp(`rr serve started; version ${V} \\(runtime bun, target ${HOST}\\)`));
    assert.equal(served.code, 0, served.output);
    // Bun auto-installs into its global cache: the copy stays untouched.
    assert.equal(existsSync(join(copy, "node_modules")), false);
  });

  it("deno run -A <copy>/src/main.ts --version and serve", { timeout: 90_000 }, async () => {
    const copy = cleanCopy(work, "rr-for-deno");
    const version = await run(["deno", "run", "-A", join(copy, "src", "main.ts"), "--version"], app);
    assert.equal(version.code, 0, version.output);
    assert.match(version.output, new RegExp(`^rr version ${V} \\(deno \\d+\\.\\d+\\.\\d+\\S*, ${HOST}\\)$`, "m"));
    const served = await serveAndStop(["deno", "run", "-A", join(copy, "src", "main.ts"), "serve"], app);
    assert.match(served.output, new RegExp(`rr serve started; version ${V} \\(runtime deno, target ${HOST}\\)`));
    assert.equal(served.code, 0, served.output);
  });

  it("deno run -A --import-map=<url>/deno.json <url>/src/main.ts --version, straight from a web server", { timeout: 90_000 }, async () => {
    const copy = cleanCopy(work, "rr-served");
    const types: Record<string, string> = { ".ts": "application/typescript", ".json": "application/json" };
    const server = await getPlatform().serveHttp({
      hostname: "127.0.0.1",
      port: 0,
      handler: (req) => {
        const path = decodeURIComponent(new URL(req.url).pathname);
        const file = join(copy, path);
        if (path.includes("..") || !existsSync(file)) return new Response("not found", { status: 404 });
        return new Response(readFileSync(file), { headers: { "content-type": types[extname(file)] ?? "text/plain" } });
      },
    });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const version = await run(["deno", "run", "-A", `--import-map=${url}/deno.json`, `${url}/src/main.ts`, "--version"], app);
      assert.equal(version.code, 0, version.output);
      assert.match(version.output, new RegExp(`^rr version ${V} \\(deno \\d+\\.\\d+\\.\\d+\\S*, ${HOST}\\)$`, "m"));
    } finally {
      await server.stop(true);
    }
  });
});
