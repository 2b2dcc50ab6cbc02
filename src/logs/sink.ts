// Where log lines go: stderr, stdout or a file (appended). Writes are synchronous so
// nothing is lost when rr exits right after logging.
import { closeSync, openSync, writeSync } from "node:fs";
import { isatty } from "node:tty";

export interface Sink {
  write(text: string): void;
  /** True for a terminal that should get colors. */
  readonly color: boolean;
}

const colorAllowed = () => !process.env.NO_COLOR && process.env.TERM !== "dumb";

function fdSink(fd: number, stream: { write(text: string): unknown }): Sink {
  return {
    color: isatty(fd) && colorAllowed(),
    write(text) {
      try {
        writeSync(fd, text);
      } catch {
        // A non-blocking pipe can refuse a synchronous write (EAGAIN); let the stream queue it.
        stream.write(text);
      }
    },
  };
}

/** Opens (and caches) sinks by name; close() closes the files. */
export class SinkSet {
  #sinks = new Map<string, Sink>();
  #fds: number[] = [];

  get(name: string): Sink {
    const key = name === "" ? "stderr" : name;
    let sink = this.#sinks.get(key);
    if (sink) return sink;
    if (key === "stderr") sink = fdSink(2, process.stderr);
    else if (key === "stdout") sink = fdSink(1, process.stdout);
    else {
      const fd = openSync(key, "a");
      this.#fds.push(fd);
      sink = {
        color: false,
        write(text) {
          writeSync(fd, text);
        },
      };
    }
    this.#sinks.set(key, sink);
    return sink;
  }

  close(): void {
    for (const fd of this.#fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.#sinks.clear();
  }
}
