// Shared by the commands: the full argv (citty only hands a command the args after its
// name), and how errors end the process: user errors as one clear message, exit 1;
// internal errors with a stack trace only under -d.
import { writeSync } from "node:fs";
import { RRError } from "../errors.ts";
import { parseGlobalFlags } from "./flags.ts";

let fullArgv: readonly string[] = [];

export function setArgv(argv: readonly string[]): void {
  fullArgv = argv;
}

export function getArgv(): readonly string[] {
  return fullArgv;
}

/** Run a command body; its resolved number is the exit code. Never returns normally. */
export async function runCommandBody(body: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await body();
  } catch (error) {
    code = 1;
    if (error instanceof RRError) {
      writeStderr(`${error.message}\n`);
    } else {
      let debug = false;
      try {
        debug = parseGlobalFlags(fullArgv).debug;
      } catch {
        // a bad flag must not hide the original error
      }
      const text = error instanceof Error ? (debug ? String(error.stack) : error.message) : String(error);
      writeStderr(`rr: internal error: ${text}${debug ? "" : " (run with -d for details)"}\n`);
    }
  }
  process.exit(code);
}

/** Synchronous, so the text is out before process.exit. */
export function writeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    process.stderr.write(text);
  }
}

export function writeStdout(text: string): void {
  try {
    writeSync(1, text);
  } catch {
    process.stdout.write(text);
  }
}
