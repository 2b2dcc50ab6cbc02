#!/usr/bin/env bun
// rr's single entry: `bun src/main.ts`, `deno run -A src/main.ts` and the compiled binary.
import { defineCommand, runMain, showUsage } from "citty";
import { getPlatform } from "./platform/index.ts";
import { VERSION, versionLine } from "./version.ts";
import { setArgv, writeStdout } from "./cli/context.ts";
import { globalArgs } from "./cli/flags.ts";

const main = defineCommand({
  meta: { name: "rr", version: VERSION, description: "A RoadRunner-compatible PHP application server" },
  args: globalArgs,
  // Loaded on use, so `rr --version` does not load every plugin.
  subCommands: {
    serve: () => import("./cli/serve.ts").then((m) => m.serveCommand),
    workers: () => import("./cli/workers.ts").then((m) => m.workersCommand),
    reset: () => import("./cli/reset.ts").then((m) => m.resetCommand),
    stop: () => import("./cli/stop.ts").then((m) => m.stopCommand),
    jobs: () => import("./cli/jobs.ts").then((m) => m.jobsCommand),
  },
});

const argv = process.argv.slice(2);
setArgv(argv);

if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  writeStdout(`${versionLine(getPlatform().runtime)}\n`);
} else if (argv.length === 0) {
  await showUsage(main);
} else {
  await runMain(main, { rawArgs: argv });
}
