// `rr stop [-f]`: stop an rr started with -p/--pid by signalling the pid in .pid (in the
// working directory: -w, else the config file's directory). -f sends the signal twice (forced stop).
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { defineCommand } from "citty";
import { RRError } from "../errors.ts";
import { getPlatform } from "../platform/index.ts";
import { getArgv, runCommandBody, writeStdout } from "./context.ts";
import { globalArgs, parseGlobalFlags } from "./flags.ts";

export const stopCommand = defineCommand({
  meta: { name: "stop", description: "Stop the rr whose pid is in .pid (started with -p)" },
  args: { ...globalArgs, force: { type: "boolean", alias: "f", description: "Force: signal twice, skipping the drain" } },
  run: () => runCommandBody(stop),
});

async function stop(): Promise<number> {
  const argv = getArgv();
  const flags = parseGlobalFlags(argv);
  const force = argv.includes("-f") || argv.includes("--force");
  const workDir = flags.workDir ? resolve(flags.workDir) : dirname(resolve(flags.config));
  const pidFile = join(workDir, ".pid");
  let text: string;
  try {
    text = readFileSync(pidFile, "utf8");
  } catch {
    throw new RRError(`Cannot stop rr: ${pidFile} does not exist; start rr with \`rr serve -p\` so it writes its pid there`);
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) throw new RRError(`Cannot stop rr: ${pidFile} does not hold a pid (found ${JSON.stringify(text.trim())})`);
  const platform = getPlatform();
  if (!platform.kill(pid, "SIGTERM")) throw new RRError(`Cannot stop rr: no process ${pid} (from ${pidFile}); it has already stopped`);
  if (force) {
    await new Promise((done) => setTimeout(done, 100));
    platform.kill(pid, "SIGTERM");
  }
  writeStdout(`sent ${force ? "SIGTERM twice" : "SIGTERM"} to rr (pid ${pid})\n`);
  return 0;
}
