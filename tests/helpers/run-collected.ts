// Run a command through the platform adapter (its own process group) to
// completion, collecting stdout and stderr: used by the release and install tests.
import { getPlatform } from "../../src/platform/index.ts";
import type { SpawnOptions } from "../../src/platform/index.ts";

export interface CollectedRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `options.cmd` with stdin closed; its process group is SIGKILLed after `timeoutMs`. */
export async function runCollected(
  options: Pick<SpawnOptions, "cmd" | "cwd" | "env" | "uid" | "gid">,
  timeoutMs: number,
): Promise<CollectedRun> {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const child = getPlatform().spawn({
    ...options,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    onStdout: (c) => out.push(c),
    onStderr: (c) => err.push(c),
  });
  const timer = setTimeout(() => child.killGroup("SIGKILL"), timeoutMs);
  try {
    const status = await child.exited;
    const text = (chunks: Uint8Array[]): string => new TextDecoder().decode(Buffer.concat(chunks));
    return { code: status.code, stdout: text(out), stderr: text(err) };
  } finally {
    clearTimeout(timer);
  }
}
