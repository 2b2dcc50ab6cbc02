// Ad-hoc code signatures for the macOS binaries, computed on any OS.
//
// Why: `bun build --compile` writes rr's code into a copy of the Bun runtime. For
// darwin-arm64 it re-signs the result, but (Bun 1.4.x) the darwin-x64 output keeps
// the runtime's old signature, which no longer matches the file: codeLimit stops
// short of the code and page hashes differ. macOS may kill such a binary at launch.
// Re-signing ad-hoc (no certificate, the same thing `codesign -s -` and the linker
// do) makes the signature match the bytes we ship.
//
// Layout (as the Apple linker writes it, see xnu's cs_blobs.h): an embedded-signature
// SuperBlob holding one CodeDirectory: SHA-256 of every 4 KiB page of the file before
// the signature (the last page hashed as it is, unpadded), flags adhoc|linker-signed.
import { createHash } from "node:crypto";

const MH_MAGIC_64 = 0xfeedfacf;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC_LINKER_SIGNED = 0x20002;
const CS_HASHTYPE_SHA256 = 2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;
const CODE_DIRECTORY_HEADER = 88; // version 0x20400, without identifier and hashes

interface MachOLayout {
  /** Offset of the LC_CODE_SIGNATURE command. */
  sigCmd: number;
  dataoff: number;
  datasize: number;
  /** Offset of the __LINKEDIT LC_SEGMENT_64 command. */
  linkeditCmd: number;
  textFileoff: number;
  textFilesize: number;
}

function cString(bytes: Uint8Array, start: number, max: number): string {
  let end = start;
  while (end < start + max && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}

function layoutOf(file: Uint8Array): MachOLayout {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 32 || view.getUint32(0, true) !== MH_MAGIC_64) {
    throw new Error("not a 64-bit little-endian Mach-O executable");
  }
  const ncmds = view.getUint32(16, true);
  let at = 32;
  let sig: { cmd: number; dataoff: number; datasize: number } | undefined;
  let linkeditCmd = -1;
  let text: { fileoff: number; filesize: number } | undefined;
  for (let i = 0; i < ncmds; i++) {
    const cmd = view.getUint32(at, true);
    const size = view.getUint32(at + 4, true);
    if (cmd === LC_CODE_SIGNATURE) {
      sig = { cmd: at, dataoff: view.getUint32(at + 8, true), datasize: view.getUint32(at + 12, true) };
    } else if (cmd === LC_SEGMENT_64) {
      const name = cString(file, at + 8, 16);
      if (name === "__LINKEDIT") linkeditCmd = at;
      if (name === "__TEXT") text = { fileoff: Number(view.getBigUint64(at + 40, true)), filesize: Number(view.getBigUint64(at + 48, true)) };
    }
    at += size;
  }
  if (!sig) throw new Error("the Mach-O file has no LC_CODE_SIGNATURE load command");
  if (linkeditCmd < 0 || !text) throw new Error("the Mach-O file has no __LINKEDIT or __TEXT segment");
  return { sigCmd: sig.cmd, dataoff: sig.dataoff, datasize: sig.datasize, linkeditCmd, textFileoff: text.fileoff, textFilesize: text.filesize };
}

function pageHash(file: Uint8Array, page: number, codeLimit: number): Buffer {
  const start = page * PAGE;
  return createHash("sha256").update(file.subarray(start, Math.min(start + PAGE, codeLimit))).digest();
}

/**
 * Why the embedded signature does not match the file, or null when it does: the
 * CodeDirectory must cover every byte before the signature, with matching SHA-256 page hashes.
 */
export function signatureProblem(file: Uint8Array): string | null {
  const layout = layoutOf(file);
  const { dataoff, datasize } = layout;
  if (dataoff + datasize > file.length) return "the signature runs past the end of the file";
  if (dataoff + datasize < file.length) return "there are bytes after the signature";
  const sb = new DataView(file.buffer, file.byteOffset + dataoff, datasize);
  if (sb.getUint32(0) !== CSMAGIC_EMBEDDED_SIGNATURE) return "the signature is not an embedded-signature SuperBlob";
  const count = sb.getUint32(8);
  for (let i = 0; i < count; i++) {
    if (sb.getUint32(12 + 8 * i) !== 0) continue; // slot 0: the CodeDirectory
    const cd = sb.getUint32(12 + 8 * i + 4);
    if (sb.getUint32(cd) !== CSMAGIC_CODEDIRECTORY) return "slot 0 holds no CodeDirectory";
    const hashOffset = sb.getUint32(cd + 16);
    const nCodeSlots = sb.getUint32(cd + 28);
    const codeLimit = sb.getUint32(cd + 32);
    const hashSize = sb.getUint8(cd + 36);
    const hashType = sb.getUint8(cd + 37);
    const pageBits = sb.getUint8(cd + 39);
    if (hashType !== CS_HASHTYPE_SHA256 || hashSize !== 32 || pageBits !== PAGE_BITS) return "the CodeDirectory does not use SHA-256 over 4 KiB pages";
    if (codeLimit !== dataoff) return `the signature covers ${codeLimit} bytes, but the code is ${dataoff} bytes`;
    if (nCodeSlots !== Math.ceil(codeLimit / PAGE)) return "the CodeDirectory has the wrong number of page hashes";
    const hashes = file.subarray(dataoff + cd + hashOffset, dataoff + cd + hashOffset + nCodeSlots * 32);
    let bad = 0;
    for (let page = 0; page < nCodeSlots; page++) {
      if (!pageHash(file, page, codeLimit).equals(hashes.subarray(page * 32, page * 32 + 32))) bad++;
    }
    return bad === 0 ? null : `${bad} of ${nCodeSlots} page hashes do not match`;
  }
  return "the signature has no CodeDirectory";
}

/**
 * Returns the file with a fresh ad-hoc signature in place of the old one (same
 * offset; __LINKEDIT and LC_CODE_SIGNATURE sizes adjusted). The input is not modified.
 */
export function adhocSign(input: Uint8Array, identifier: string): Uint8Array {
  const layout = layoutOf(input);
  const codeLimit = layout.dataoff; // everything before the signature is code
  const id = new TextEncoder().encode(`${identifier}\0`);
  const nSlots = Math.ceil(codeLimit / PAGE);
  const cdLength = CODE_DIRECTORY_HEADER + id.length + nSlots * 32;
  const sigLength = 12 + 8 + cdLength;
  const datasize = Math.ceil(sigLength / 16) * 16;

  const out = new Uint8Array(codeLimit + datasize);
  out.set(input.subarray(0, codeLimit));
  const view = new DataView(out.buffer);
  // Header fields live inside the hashed range: update them before hashing.
  view.setUint32(layout.sigCmd + 12, datasize, true);
  const linkeditFileoff = Number(view.getBigUint64(layout.linkeditCmd + 40, true));
  const linkeditFilesize = codeLimit + datasize - linkeditFileoff;
  view.setBigUint64(layout.linkeditCmd + 48, BigInt(linkeditFilesize), true);
  const vmsize = Number(view.getBigUint64(layout.linkeditCmd + 32, true));
  if (vmsize < linkeditFilesize) view.setBigUint64(layout.linkeditCmd + 32, BigInt(Math.ceil(linkeditFilesize / 0x4000) * 0x4000), true);

  const sig = new DataView(out.buffer, codeLimit, datasize);
  sig.setUint32(0, CSMAGIC_EMBEDDED_SIGNATURE);
  sig.setUint32(4, sigLength);
  sig.setUint32(8, 1); // one blob
  sig.setUint32(12, 0); // slot 0: CodeDirectory
  sig.setUint32(16, 20); // right after the index
  const cd = 20;
  sig.setUint32(cd, CSMAGIC_CODEDIRECTORY);
  sig.setUint32(cd + 4, cdLength);
  sig.setUint32(cd + 8, 0x20400); // version with execSeg fields
  sig.setUint32(cd + 12, CS_ADHOC_LINKER_SIGNED);
  sig.setUint32(cd + 16, CODE_DIRECTORY_HEADER + id.length); // hashOffset
  sig.setUint32(cd + 20, CODE_DIRECTORY_HEADER); // identOffset
  sig.setUint32(cd + 24, 0); // no special slots
  sig.setUint32(cd + 28, nSlots);
  sig.setUint32(cd + 32, codeLimit);
  sig.setUint8(cd + 36, 32); // hashSize
  sig.setUint8(cd + 37, CS_HASHTYPE_SHA256);
  sig.setUint8(cd + 39, PAGE_BITS);
  // +40 pad, +44 scatterOffset, +48 teamOffset, +52 pad, +56 codeLimit64: all zero
  sig.setBigUint64(cd + 64, BigInt(layout.textFileoff)); // execSegBase
  sig.setBigUint64(cd + 72, BigInt(layout.textFilesize)); // execSegLimit
  sig.setBigUint64(cd + 80, BigInt(CS_EXECSEG_MAIN_BINARY));
  out.set(id, codeLimit + cd + CODE_DIRECTORY_HEADER);
  const hashesAt = codeLimit + cd + CODE_DIRECTORY_HEADER + id.length;
  for (let page = 0; page < nSlots; page++) out.set(pageHash(out, page, codeLimit), hashesAt + page * 32);
  return out;
}
