// scripts/macho-sign.ts on real `bun build --compile` macOS binaries (cross-compiled
// here): the checker agrees with Bun's own darwin-arm64 signature and catches a
// changed byte; the ad-hoc signer produces a signature that covers every byte
// before it, with a consistent Mach-O header.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPlatform } from "../src/platform/index.ts";
import { adhocSign, signatureProblem } from "../scripts/macho-sign.ts";

const BUN = typeof process.versions.bun === "string" ? process.execPath : "bun";

/** Where the header says the signature and __LINKEDIT end, and the identifier signed. */
function headerFacts(file: Uint8Array): { sigEnd: number; linkeditEnd: number; identifier: string; flags: number } {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let at = 32;
  let sigEnd = -1;
  let dataoff = -1;
  let linkeditEnd = -1;
  for (let i = 0, n = view.getUint32(16, true); i < n; i++) {
    const cmd = view.getUint32(at, true);
    if (cmd === 0x1d) {
      dataoff = view.getUint32(at + 8, true);
      sigEnd = dataoff + view.getUint32(at + 12, true);
    }
    if (cmd === 0x19 && new TextDecoder().decode(file.subarray(at + 8, at + 18)) === "__LINKEDIT") {
      linkeditEnd = Number(view.getBigUint64(at + 40, true) + view.getBigUint64(at + 48, true));
    }
    at += view.getUint32(at + 4, true);
  }
  const cd = dataoff + view.getUint32(dataoff + 16); // slot 0 offset (big-endian)
  const identOffset = view.getUint32(cd + 20);
  const identifier = new TextDecoder().decode(file.subarray(cd + identOffset, file.indexOf(0, cd + identOffset)));
  return { sigEnd, linkeditEnd, identifier, flags: view.getUint32(cd + 12) };
}

describe("scripts/macho-sign.ts", () => {
  const work = mkdtempSync(join(tmpdir(), "rr-macho-sign-"));
  const built = new Map<string, Promise<Uint8Array>>();

  /** A tiny program compiled for a macOS target (once per target). */
  function compiled(target: "darwin-arm64" | "darwin-x64"): Promise<Uint8Array> {
    let p = built.get(target);
    if (!p) {
      p = (async () => {
        const src = join(work, "hello.ts");
        writeFileSync(src, 'console.log("hello from rr\'s signing test");\n');
        const out = join(work, `hello-${target}`);
        const child = getPlatform().spawn({ cmd: [BUN, "build", "--compile", `--target=bun-${target}`, src, "--outfile", out], cwd: work, stdout: "ignore", stderr: "inherit" });
        const status = await child.exited;
        assert.equal(status.code, 0, `bun build --compile --target=bun-${target} failed`);
        return new Uint8Array(readFileSync(out));
      })();
      built.set(target, p);
    }
    return p;
  }

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("agrees with Bun's own darwin-arm64 signature and catches one changed byte", { timeout: 120_000 }, async () => {
    const arm = await compiled("darwin-arm64");
    assert.equal(signatureProblem(arm), null);
    const changed = arm.slice();
    changed[4096 * 3 + 17] ^= 1;
    assert.equal(signatureProblem(changed), `1 of ${Math.ceil(readDataoff(arm) / 4096)} page hashes do not match`);
  });

  it("signs a darwin-x64 binary so that its signature covers the whole file", { timeout: 120_000 }, async () => {
    const x64 = await compiled("darwin-x64");
    const signed = adhocSign(x64, "rr");
    assert.equal(signatureProblem(signed), null);
    const facts = headerFacts(signed);
    assert.equal(facts.sigEnd, signed.length, "LC_CODE_SIGNATURE ends at the end of the file");
    assert.equal(facts.linkeditEnd, signed.length, "__LINKEDIT ends at the end of the file");
    assert.equal(facts.identifier, "rr");
    assert.equal(facts.flags, 0x20002, "adhoc | linker-signed, like the linker's own signatures");
    // Everything before the old signature is the same program: only the two size fields changed.
    const dataoff = readDataoff(x64);
    let differing = 0;
    for (let i = 0; i < dataoff; i++) if (x64[i] !== signed[i]) differing++;
    assert.ok(differing <= 8, `${differing} bytes of code changed`);
    // Deterministic, and signing a signed file changes nothing.
    assert.deepEqual(adhocSign(signed, "rr"), signed);
    // The input is left alone.
    assert.deepEqual(x64, await compiled("darwin-x64"));
  });

  it("re-signs a valid darwin-arm64 binary to the same layout Bun writes", { timeout: 120_000 }, async () => {
    const arm = await compiled("darwin-arm64");
    const signed = adhocSign(arm, "rr");
    assert.equal(signatureProblem(signed), null);
    assert.equal(headerFacts(signed).flags, headerFacts(arm).flags);
    assert.equal(readDataoff(signed), readDataoff(arm));
  });

  it("refuses what is not a 64-bit Mach-O file with a clear message", () => {
    assert.throws(() => signatureProblem(new TextEncoder().encode("#!/bin/sh\necho hi\n")), /not a 64-bit little-endian Mach-O executable/);
  });
});

function readDataoff(file: Uint8Array): number {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let at = 32;
  for (let i = 0, n = view.getUint32(16, true); i < n; i++) {
    if (view.getUint32(at, true) === 0x1d) return view.getUint32(at + 8, true);
    at += view.getUint32(at + 4, true);
  }
  throw new Error("no LC_CODE_SIGNATURE");
}
