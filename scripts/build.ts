// Compiles rr into self-contained binaries with `bun build --compile` (Bun cross-compiles
// every target from Linux; it fetches the other targets' runtime from the npm registry).
//
// Usage: bun scripts/build.ts [target...]     targets: linux-x64 linux-arm64 darwin-x64 darwin-arm64
// Writes dist/rr-<target> and prints each size. Exits 1 if any target failed, with bun's error.
// --bytecode (ESM) precompiles the JS: `rr --version` starts in ~20 ms instead of ~55 ms.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"] as const;
export type Target = (typeof TARGETS)[number];

export const ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function binaryPath(target: Target): string {
  return join(ROOT, "dist", `rr-${target}`);
}

/** Newest modification time (ms) of what a binary is built from. */
export function newestSourceMtime(): number {
  let newest = 0;
  const visit = (path: string): void => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else if (stat.mtimeMs > newest) newest = stat.mtimeMs;
  };
  for (const path of ["src", "package.json"]) visit(join(ROOT, path));
  return newest;
}

/** True when dist/rr-<target> exists and is newer than every source file. */
export function isUpToDate(target: Target): boolean {
  const bin = binaryPath(target);
  return existsSync(bin) && statSync(bin).mtimeMs >= newestSourceMtime();
}

/** bun itself when we run under bun, else `bun` from PATH. */
function bunExecutable(): string {
  return basename(process.execPath).startsWith("bun") ? process.execPath : "bun";
}

/** Build one target; returns its size in bytes, or throws with bun's output. */
export function buildTarget(target: Target): number {
  const out = binaryPath(target);
  mkdirSync(dirname(out), { recursive: true });
  // Build next to the final name, then rename: a concurrent reader never sees half a binary.
  const tmp = `${out}.tmp-${process.pid}`;
  const result = spawnSync(
    bunExecutable(),
    ["build", "--compile", "--minify", "--bytecode", "--format=esm", `--target=bun-${target}`, join(ROOT, "src/main.ts"), "--outfile", tmp],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (result.status !== 0) {
    rmSync(tmp, { force: true });
    const detail = (result.stderr || result.stdout || String(result.error ?? "")).trim();
    throw new Error(`bun build --compile --target=bun-${target} failed (exit ${result.status}): ${detail}`);
  }
  renameSync(tmp, out);
  return statSync(out).size;
}

function main(args: string[]): number {
  const unknown = args.filter((arg) => !(TARGETS as readonly string[]).includes(arg));
  if (unknown.length > 0) {
    console.error(`Unknown target ${unknown.join(", ")}; choose from ${TARGETS.join(", ")}`);
    return 2;
  }
  const targets = (args.length > 0 ? args : [...TARGETS]) as Target[];
  let failed = 0;
  for (const target of targets) {
    const started = Date.now();
    try {
      const size = buildTarget(target);
      const mb = (size / 1024 / 1024).toFixed(1);
      console.log(`dist/rr-${target}  ${mb} MB (${size} bytes)  built in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    } catch (error) {
      failed++;
      console.error(`dist/rr-${target}  FAILED: ${(error as Error).message}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
