// Builds the release artifacts into dist/ (or --out-dir):
//   rr-<version>-<os>-<arch>.tar.gz  holding rr (executable), LICENSE, README.md
//   SHA256SUMS                       `sha256sum` format, every archive of this version + install.sh
//   install.sh                       the installer, published next to the archives
// macOS binaries whose code signature does not match the file (bun's darwin-x64
// output) are re-signed ad-hoc on the way into the archive (scripts/macho-sign.ts).
// The version is package.json's; the binaries come from scripts/build.ts
// (`bun build --compile`), which cross-compiles all four targets from one machine.
//
// Usage: bun scripts/release.ts [target...] [--out-dir <dir>] [--reuse]
//   target     linux-x64, linux-arm64, darwin-x64, darwin-arm64 (default: all four)
//   --reuse    keep dist/rr-<target> when it is newer than the sources, and an
//              archive when it is newer than what it holds (fast local re-runs)
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { binaryPath, buildTarget, isUpToDate, ROOT, TARGETS, type Target } from "./build.ts";
import { adhocSign, signatureProblem } from "./macho-sign.ts";

class ReleaseError extends Error {}

/** dist/rr-<target>, built by scripts/build.ts (or kept when `reuse` and newer than the sources). */
function binaryFor(target: Target, reuse: boolean): string {
  const binary = binaryPath(target);
  if (reuse && isUpToDate(target)) {
    console.log(`reusing ${relative(ROOT, binary)} (newer than the sources)`);
    return binary;
  }
  const started = performance.now();
  const size = buildTarget(target);
  console.log(`built ${relative(ROOT, binary)} (${mb(size)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return binary;
}

/**
 * The bytes that go into the archive as `rr`. macOS binaries get a fresh ad-hoc
 * signature when the one `bun build --compile` left does not match the file.
 */
function shippedBinary(binary: string, target: Target): Uint8Array {
  const data = readFileSync(binary);
  if (!target.startsWith("darwin-")) return data;
  const problem = signatureProblem(data);
  if (problem === null) return data;
  const signed = adhocSign(data, "rr");
  const left = signatureProblem(signed);
  if (left !== null) throw new ReleaseError(`Cannot re-sign ${relative(ROOT, binary)}: ${left}`);
  console.log(`re-signed ${relative(ROOT, binary)} ad-hoc for the archive (${problem})`);
  return signed;
}

function hostTarget(): string {
  return `${process.platform}-${process.arch}`;
}

/** Runs a binary built for this machine and checks it reports the release version and target. */
function checkVersion(binary: string, version: string, target: Target): string {
  const res = spawnSync(binary, ["--version"], { encoding: "utf8" });
  const out = `${res.stdout ?? ""}${res.stderr ?? ""}`.trim();
  if (res.status !== 0) throw new ReleaseError(`${binary} --version failed (exit ${res.status}): ${out}`);
  if (!out.includes(`version ${version} `) || !out.includes(target)) {
    throw new ReleaseError(`${binary} --version printed "${out}"; expected version ${version} and target ${target}`);
  }
  return out;
}

// --- a minimal ustar writer: regular files only, read by GNU tar and bsdtar ---

interface TarEntry {
  name: string;
  data: Uint8Array;
  mode: number;
}

function octal(value: number, width: number): string {
  // width includes the trailing NUL
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function tarHeader(entry: TarEntry, mtime: number): Uint8Array {
  const header = new Uint8Array(512);
  const enc = new TextEncoder();
  const put = (offset: number, text: string): void => {
    header.set(enc.encode(text), offset);
  };
  if (enc.encode(entry.name).length > 100) throw new ReleaseError(`Archive member name too long: ${entry.name}`);
  put(0, entry.name);
  put(100, octal(entry.mode, 8));
  put(108, octal(0, 8)); // uid
  put(116, octal(0, 8)); // gid
  put(124, octal(entry.data.length, 12));
  put(136, octal(mtime, 12));
  put(148, "        "); // checksum placeholder: spaces while summing
  put(156, "0"); // regular file
  put(257, "ustar\0");
  put(263, "00");
  put(265, "root");
  put(297, "root");
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return header;
}

function tarGz(entries: TarEntry[], mtime: number): Uint8Array {
  const RECORD = 10240;
  let size = 1024; // two zero blocks end the archive
  for (const e of entries) size += 512 + Math.ceil(e.data.length / 512) * 512;
  size = Math.ceil(size / RECORD) * RECORD;
  const tar = new Uint8Array(size); // zero-filled: padding comes for free
  let at = 0;
  for (const e of entries) {
    tar.set(tarHeader(e, mtime), at);
    tar.set(e.data, at + 512);
    at += 512 + Math.ceil(e.data.length / 512) * 512;
  }
  // Level 6 (gzip's default): level 9 takes twice as long for a 2-3% smaller archive.
  return gzipSync(tar, { level: 6 });
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Writes via a temp file and rename, so readers never see a partial file. */
function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export interface ReleaseOptions {
  targets: Target[];
  outDir: string;
  reuse: boolean;
}

export function release(opts: ReleaseOptions): void {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version?: unknown };
  const version = pkg.version;
  if (typeof version !== "string" || !/^[0-9A-Za-z.+-]+$/.test(version)) {
    throw new ReleaseError(`package.json has no usable "version" (got ${JSON.stringify(version)})`);
  }
  mkdirSync(opts.outDir, { recursive: true });
  const license = readFileSync(join(ROOT, "LICENSE"));
  const readme = readFileSync(join(ROOT, "README.md"));
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const mtime = Number.isInteger(epoch) && epoch > 0 ? epoch : Math.floor(Date.now() / 1000);

  const rows: string[] = [];
  for (const target of opts.targets) {
    const started = performance.now();
    const binary = binaryFor(target, opts.reuse);
    if (target === hostTarget()) checkVersion(binary, version, target);
    const archive = join(opts.outDir, `rr-${version}-${target}.tar.gz`);
    const inputsMtime = Math.max(
      statSync(binary).mtimeMs,
      statSync(join(ROOT, "LICENSE")).mtimeMs,
      statSync(join(ROOT, "README.md")).mtimeMs,
    );
    if (opts.reuse && existsSync(archive) && statSync(archive).mtimeMs > inputsMtime) {
      console.log(`reusing ${archive} (newer than what it holds)`);
    } else {
      const data = tarGz(
        [
          { name: "rr", data: shippedBinary(binary, target), mode: 0o755 },
          { name: "LICENSE", data: license, mode: 0o644 },
          { name: "README.md", data: readme, mode: 0o644 },
        ],
        mtime,
      );
      writeAtomic(archive, data);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    rows.push(`  ${target.padEnd(13)} binary ${mb(statSync(binary).size).padStart(9)}  archive ${mb(statSync(archive).size).padStart(9)}  ${seconds} s`);
  }

  copyFileSync(join(ROOT, "scripts", "install.sh"), join(opts.outDir, "install.sh"));
  // SHA256SUMS covers every archive of this version in the directory, so
  // filtered runs (one target at a time) add up to one complete file.
  const archiveName = new RegExp(`^rr-${version.replace(/[.+]/g, "\\$&")}-(linux|darwin)-(x64|arm64)\\.tar\\.gz$`);
  const files = readdirSync(opts.outDir).filter((f) => archiveName.test(f)).sort();
  files.push("install.sh");
  const sums = files.map((f) => `${sha256(readFileSync(join(opts.outDir, f)))}  ${f}\n`).join("");
  writeAtomic(join(opts.outDir, "SHA256SUMS"), sums);

  console.log(`rr ${version} release in ${opts.outDir}:`);
  for (const row of rows) console.log(row);
  console.log(`  SHA256SUMS lists ${files.length} files`);
}

function parseTargets(args: string[]): Target[] {
  if (args.length === 0) return [...TARGETS];
  const chosen: Target[] = [];
  for (const arg of args) {
    const target = TARGETS.find((t) => t === arg);
    if (!target) throw new ReleaseError(`Unknown target "${arg}": choose from ${TARGETS.join(", ")}`);
    if (!chosen.includes(target)) chosen.push(target);
  }
  return chosen;
}

if (import.meta.main) {
  try {
    const { values, positionals } = parseArgs({
      args: process.argv.slice(2),
      options: { "out-dir": { type: "string" }, reuse: { type: "boolean", default: false } },
      allowPositionals: true,
    });
    release({
      targets: parseTargets(positionals),
      outDir: resolve(values["out-dir"] ?? join(ROOT, "dist")),
      reuse: values.reuse === true,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`release: ${message}`);
    process.exit(1);
  }
}
