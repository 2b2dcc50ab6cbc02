// The logger every module receives. Implemented over consola in src/logs/.
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Write text untouched (raw mode, worker stderr passthrough). */
  raw(text: string): void;
  /** A logger for a sub-channel, e.g. "http". */
  child(channel: string): Logger;
}
