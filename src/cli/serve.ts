// `rr serve`: load the config, chdir into the working directory, start the configured
// plugins and run until a signal (shared/spec/plugins.md §7.6).
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "citty";
import { PluginHost, serveUntilSignal } from "../app/host.ts";
import { loadConfig } from "../config/schema.ts";
import { createLogging } from "../logs/index.ts";
import { getPlatform } from "../platform/index.ts";
import { VERSION } from "../version.ts";
import { getArgv, runCommandBody } from "./context.ts";
import { globalArgs, parseGlobalFlags } from "./flags.ts";

export const serveCommand = defineCommand({
  meta: { name: "serve", description: "Start the plugins configured in .rr.yaml and serve until SIGINT/SIGTERM" },
  args: globalArgs,
  run: () => runCommandBody(serve),
});

async function serve(): Promise<number> {
  const flags = parseGlobalFlags(getArgv());
  const loaded = loadConfig({ configPath: flags.config, workDir: flags.workDir, overrides: flags.overrides, dotenv: flags.dotenv });
  process.chdir(loaded.workDir);
  const platform = getPlatform();
  const logging = createLogging(loaded.config.logs, { silent: flags.silent, debug: flags.debug });
  const log = logging.logger("rr");
  for (const warning of loaded.warnings) logging.logger("config").warn(warning.message);
  // A bug in one plugin's background work must not take the whole server down silently.
  process.on("unhandledRejection", (reason: unknown) => {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    log.error(`internal error (unhandled rejection): ${error.message}`, flags.debug ? { stack: error.stack } : undefined);
  });

  const pidFile = flags.pid ? join(loaded.workDir, ".pid") : undefined;
  try {
    const host = new PluginHost({
      config: loaded.config,
      platform,
      logger: (channel) => logging.logger(channel),
      version: VERSION,
      file: loaded.file,
    });
    // Signal handlers go in first, so a signal during start stops what started.
    const stopped = serveUntilSignal({ host, platform, logger: log, gracePeriodMs: loaded.config.endure.grace_period });
    if (pidFile) writeFileSync(pidFile, `${platform.pid}\n`);
    await host.start();
    if (!host.closing) {
      const { runtime } = platform;
      const how = runtime.compiled ? "compiled" : runtime.name;
      log.info(`rr serve started; version ${VERSION} (runtime ${how}, target ${runtime.target})`, {
        config: loaded.path,
        workdir: loaded.workDir,
        plugins: host.names,
      });
      if (loaded.config.endure.print_graph) log.info(`plugin start order: ${host.names.join(" → ") || "(none)"}`);
      if (host.names.length === 0) {
        log.warn(`nothing is configured to serve: ${loaded.file} has no section with a plugin (http, jobs, rpc, ...); waiting for a signal`);
      }
    }
    return await stopped;
  } finally {
    if (pidFile) rmSync(pidFile, { force: true });
    logging.close();
  }
}
