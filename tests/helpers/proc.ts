// Linux /proc reads for tests and fixtures (node built-ins only).
import { readFileSync } from "node:fs";

/** /proc/<pid>/stat: state, parent and process group, or null when the pid is gone. */
export function procStat(pid: number): { state: string; ppid: number; pgrp: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ppid pgrp ...": comm may contain spaces and parentheses.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]) };
  } catch {
    return null;
  }
}

/** The one-letter process state ("S", "Z", ...), or null when the pid is gone. */
export function procState(pid: number): string | null {
  return procStat(pid)?.state ?? null;
}
