// Logging for every module (the `logs` section, shared/spec/plugins.md §7.4), over consola:
// consola does the level filtering and dispatch; our reporter formats one line per entry
// (console, JSON or raw) and writes it to the configured outputs.
import { type ConsolaInstance, type ConsolaReporter, createConsola, type LogObject } from "consola/core";
import type { LogsChannelConfig, LogsConfig } from "../config/sections/logs.ts";
import type { Logger } from "./types.ts";
import { formatConsole, formatJson, type LevelName } from "./format.ts";
import { type Sink, SinkSet } from "./sink.ts";

export type { Logger } from "./types.ts";

export interface LoggingOptions {
  /** -s/--silent: no log output at all. */
  silent?: boolean;
  /** -d/--debug: debug level everywhere. */
  debug?: boolean;
}

export interface Logging {
  /** The logger for a channel (plugin name); `logs.channels.<name>` overrides apply. */
  logger(channel: string): Logger;
  /** Close log files. */
  close(): void;
}

/** The effective settings of one channel, after defaults and overrides. */
export interface ChannelSettings {
  mode: "development" | "production" | "raw" | "off";
  level: LevelName;
  encoding: "console" | "json";
  lineEnding: string;
  outputs: string[];
}

// consola's numeric levels: error 0, warn 1, info 3, debug 4.
const LEVEL_NUMBER: Record<LevelName, number> = { error: 0, warn: 1, info: 3, debug: 4 };
const SILENT = -999;

function normalizeLevel(level: string): LevelName {
  if (level === "warning") return "warn";
  if (level === "panic" || level === "dpanic" || level === "fatal") return "error";
  return level as LevelName;
}

export function resolveChannel(root: LogsChannelConfig, override: LogsChannelConfig | undefined, opts: LoggingOptions = {}): ChannelSettings {
  const pick = <K extends keyof LogsChannelConfig>(key: K): LogsChannelConfig[K] => override?.[key] ?? root[key];
  let mode = pick("mode") ?? "development";
  if (mode === "none") mode = "off";
  let level = normalizeLevel(pick("level") ?? (mode === "production" ? "info" : "debug"));
  if (opts.debug) level = "debug";
  let encoding = pick("encoding") ?? (mode === "production" ? "json" : "console");
  let outputs = pick("output") ?? ["stderr"];
  const fileOptions = pick("file_logger_options");
  if (fileOptions?.log_output) {
    // Like RoadRunner: with a file logger, logs go only to that file, JSON-encoded (no rotation here).
    outputs = [fileOptions.log_output];
    encoding = "json";
  }
  return {
    mode: opts.silent ? "off" : mode,
    level,
    encoding,
    lineEnding: pick("line_ending") ?? "\n",
    outputs,
  };
}

function reporterFor(settings: ChannelSettings, sinks: Sink[]): ConsolaReporter {
  return {
    log(entry: LogObject) {
      const level = consolaTypeToLevel(entry.type);
      const message = String(entry.args[0] ?? "");
      const fields = entry.args[1] as Record<string, unknown> | undefined;
      for (const sink of sinks) {
        let line: string;
        if (settings.mode === "raw") line = message;
        else if (settings.encoding === "json") line = formatJson(level, entry.date, entry.tag, message, fields);
        else line = formatConsole(level, entry.date, entry.tag, message, fields, sink.color);
        sink.write(line + settings.lineEnding);
      }
    },
  };
}

function consolaTypeToLevel(type: string): LevelName {
  if (type === "error" || type === "fatal") return "error";
  if (type === "warn") return "warn";
  if (type === "debug" || type === "trace" || type === "verbose") return "debug";
  return "info";
}

class ChannelLogger implements Logger {
  readonly #threshold: number;
  readonly #consola: ConsolaInstance;

  constructor(
    readonly channel: string,
    readonly settings: ChannelSettings,
    readonly sinks: Sink[],
    readonly logging: Logging,
  ) {
    this.#threshold = settings.mode === "off" ? SILENT : LEVEL_NUMBER[settings.level];
    this.#consola = createConsola({
      level: this.#threshold,
      reporters: [reporterFor(settings, sinks)],
      // consola collapses repeated messages by default; logs must show every line.
      throttle: 0,
      defaults: { tag: channel },
    });
  }

  // Check the level before touching consola, so disabled debug logs cost one comparison.
  debug(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold >= 4) this.#consola.debug(message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold >= 3) this.#consola.info(message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold >= 1) this.#consola.warn(message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold >= 0) this.#consola.error(message, fields);
  }
  raw(text: string): void {
    if (this.settings.mode === "off") return;
    for (const sink of this.sinks) sink.write(text);
  }
  child(channel: string): Logger {
    return this.logging.logger(`${this.channel}.${channel}`);
  }
}

/** Build the loggers from the validated `logs` section (absent section = development, debug, stderr). */
export function createLogging(config: LogsConfig | undefined, opts: LoggingOptions = {}): Logging {
  const root: LogsChannelConfig = config ?? {};
  const channels = config?.channels ?? {};
  const sinkSet = new SinkSet();
  const loggers = new Map<string, Logger>();
  const logging: Logging = {
    logger(channel: string): Logger {
      let logger = loggers.get(channel);
      if (logger) return logger;
      // "http.pool" uses channels["http.pool"], else channels["http"].
      const override = channels[channel] ?? channels[channel.split(".")[0]];
      const settings = resolveChannel(root, override, opts);
      const sinks = settings.mode === "off" ? [] : settings.outputs.map((name) => sinkSet.get(name));
      logger = new ChannelLogger(channel, settings, sinks, logging);
      loggers.set(channel, logger);
      return logger;
    },
    close(): void {
      loggers.clear();
      sinkSet.close();
    },
  };
  return logging;
}
