// Logging: modes, levels, encodings, outputs and per-channel overrides, written to real files.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { createLogging, type LoggingOptions } from "../src/logs/index.ts";
import { LogsSchema } from "../src/config/sections/logs.ts";
import { makeTmpDir, type TmpDir } from "./helpers/index.ts";

let dir: TmpDir;
before(() => {
  dir = makeTmpDir("rr-logs-");
});
after(() => dir.remove());

let counter = 0;
/** Logging into a fresh file; `lines()` closes it and returns what was written. */
function fileLogging(logs: Record<string, unknown>, opts: LoggingOptions = {}) {
  const file = dir.write(`log${++counter}.txt`, "");
  const config = v.parse(LogsSchema, { output: file, ...logs });
  const logging = createLogging(config, opts);
  return {
    logging,
    file,
    lines(): string[] {
      logging.close();
      return readFileSync(file, "utf8").split("\n").filter((line) => line !== "");
    },
  };
}

describe("logs", () => {
  it("production mode writes one JSON object per line with level, ts, logger, msg and fields", () => {
    const { logging, lines } = fileLogging({ mode: "production" });
    const before = Date.now();
    logging.logger("http").info("request served", { status: 200, error: new Error("boom"), nested: { a: [1] } });
    logging.logger("http").warn("slow", { ms: 1500 });
    const out = lines();
    assert.equal(out.length, 2);
    const first = JSON.parse(out[0]) as Record<string, unknown>;
    assert.equal(first.level, "info");
    assert.equal(first.logger, "http");
    assert.equal(first.msg, "request served");
    assert.equal(first.status, 200);
    assert.equal(first.error, "boom");
    assert.deepEqual(first.nested, { a: [1] });
    // ts is epoch nanoseconds.
    const tsMs = Number(/"ts":(\d+)/.exec(out[0])?.[1]) / 1e6;
    assert.ok(tsMs >= before - 1 && tsMs <= Date.now() + 1, `ts ${tsMs}`);
    assert.equal((JSON.parse(out[1]) as Record<string, unknown>).level, "warn");
  });

  it("production defaults to info; development defaults to debug", () => {
    const prod = fileLogging({ mode: "production" });
    prod.logging.logger("rr").debug("hidden");
    prod.logging.logger("rr").info("shown");
    assert.deepEqual(prod.lines().map((l) => (JSON.parse(l) as { msg: string }).msg), ["shown"]);

    const dev = fileLogging({});
    dev.logging.logger("rr").debug("visible debug", { k: "v" });
    const [line] = dev.lines();
    assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z\tDEBUG\trr\tvisible debug\t\{"k":"v"\}$/);
  });

  it("filters by level and accepts warning/panic spellings", () => {
    const { logging, lines } = fileLogging({ mode: "production", level: "warning" });
    const log = logging.logger("jobs");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    assert.deepEqual(lines().map((l) => (JSON.parse(l) as { level: string }).level), ["warn", "error"]);
  });

  it("json encoding in development mode, raw mode and line_ending", () => {
    const json = fileLogging({ encoding: "json" });
    json.logging.logger("rr").info("as json");
    assert.equal((JSON.parse(json.lines()[0]) as { msg: string }).msg, "as json");

    const raw = fileLogging({ mode: "raw", line_ending: "|\n" });
    raw.logging.logger("server").info("just the message", { ignored: true });
    raw.logging.logger("server").raw("untouched worker output\n");
    assert.deepEqual(raw.lines(), ["just the message|", "untouched worker output"]);
  });

  it("off, none and -s write nothing; -d lowers the level to debug", () => {
    for (const opts of [{ logs: { mode: "off" } }, { logs: { mode: "none" } }, { logs: {}, flags: { silent: true } }]) {
      const quiet = fileLogging(opts.logs, opts.flags);
      quiet.logging.logger("rr").error("nothing");
      quiet.logging.logger("rr").raw("nothing either");
      assert.deepEqual(quiet.lines(), []);
    }
    const debug = fileLogging({ mode: "production", level: "error" }, { debug: true });
    debug.logging.logger("rr").debug("now visible");
    assert.equal((JSON.parse(debug.lines()[0]) as { level: string }).level, "debug");
  });

  it("channels override the root settings per plugin (and for its sub-channels)", () => {
    const other = dir.write("http-only.txt", "");
    const { logging, lines } = fileLogging({
      mode: "production",
      level: "info",
      channels: { http: { mode: "development", level: "error", output: other }, jobs: { mode: "off" } },
    });
    logging.logger("http").warn("dropped");
    logging.logger("http").error("kept in other file");
    logging.logger("http").child("pool").error("child of http");
    logging.logger("jobs").error("silenced");
    logging.logger("rr").info("root");
    const root = lines();
    assert.deepEqual(root.map((l) => (JSON.parse(l) as { msg: string }).msg), ["root"]);
    const httpLines = readFileSync(other, "utf8").trim().split("\n");
    assert.equal(httpLines.length, 2);
    assert.match(httpLines[0], /\tERROR\thttp\tkept in other file$/);
    assert.match(httpLines[1], /\tERROR\thttp\.pool\tchild of http$/);
  });

  it("does not collapse repeated identical lines", () => {
    const { logging, lines } = fileLogging({ mode: "production" });
    for (let i = 0; i < 10; i++) logging.logger("rr").info("same");
    assert.equal(lines().length, 10);
  });

  it("file_logger_options.log_output sends JSON to that file only", () => {
    const target = dir.write("rotating.log", "old line\n");
    const { logging, lines } = fileLogging({ file_logger_options: { log_output: target } });
    logging.logger("rr").info("to the file logger");
    assert.deepEqual(lines(), []);
    const content = readFileSync(target, "utf8").split("\n");
    assert.equal(content[0], "old line");
    assert.equal((JSON.parse(content[1]) as { msg: string }).msg, "to the file logger");
  });
});
