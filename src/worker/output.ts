// A worker's stderr (and stdout in socket mode): logged line by line with the
// worker's pid, the last lines kept for error messages.
import type { Logger } from "../logs/types.ts";

/** How many lines stderrTail() returns. */
export const TAIL_LINES = 20;
/** Longest line kept in the tail (a worker may print megabytes without a newline). */
const MAX_LINE = 2000;

export class OutputLog {
  private readonly logger: Logger;
  private readonly stream: "stderr" | "stdout";
  private readonly decoder = new TextDecoder();
  private readonly tail: string[] = [];
  pid = 0;

  constructor(logger: Logger, stream: "stderr" | "stdout") {
    this.logger = logger;
    this.stream = stream;
  }

  /**
   * Log every line of a chunk. A trailing line without a newline is logged as
   * it is (PHP's logger writes none); pipe writes under 4 KiB arrive whole.
   */
  write(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
      start = end + 1;
      if (line === "") continue;
      this.logger.info(line, this.stream === "stderr" ? { pid: this.pid } : { pid: this.pid, stream: "stdout" });
      this.tail.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    }
  }

  /** The last lines, newline-separated. */
  text(): string {
    return this.tail.join("\n");
  }
}
