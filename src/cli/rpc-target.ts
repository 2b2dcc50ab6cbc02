// What `rr workers` and `rr reset` share: find rpc.listen in the same config `rr serve`
// reads (-c, -w, -o, --dotenv), connect to it, and collect the plugin names given on the line.
import { loadConfig } from "../config/schema.ts";
import { RRError } from "../errors.ts";
import { getPlatform } from "../platform/index.ts";
import { RpcClient, RpcConnectError } from "../plugins/rpc/client.ts";
import type { GlobalFlags } from "./flags.ts";

const VALUE_FLAGS = new Set(["-c", "--config", "-w", "--workdir", "--WorkDir", "--work-dir", "-o", "--override", "--dotenv"]);

/** Positional arguments after `command` (plugin names), skipping flags and their values. */
export function positionals(argv: readonly string[], command: string): string[] {
  const start = argv.indexOf(command);
  const out: string[] = [];
  for (let i = start + 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      out.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("-")) {
      if (VALUE_FLAGS.has(arg)) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** Load the config and connect to rr's RPC; clear RRErrors when rpc is off or rr is not running. */
export async function connectToRR(flags: GlobalFlags, command: string): Promise<RpcClient> {
  const loaded = loadConfig({ configPath: flags.config, workDir: flags.workDir, overrides: flags.overrides, dotenv: flags.dotenv });
  // Relative unix socket paths resolve where `rr serve` runs.
  process.chdir(loaded.workDir);
  const rpc = loaded.config.rpc;
  if (!rpc) {
    throw new RRError(
      `rr ${command} talks to a running rr over RPC, but ${loaded.file} has no rpc section: add\n` +
        "  rpc:\n    listen: tcp://127.0.0.1:6001\n" +
        "and restart `rr serve`",
    );
  }
  try {
    return await RpcClient.connect(getPlatform(), rpc.listen);
  } catch (error) {
    if (error instanceof RpcConnectError) throw new RRError(error.message);
    throw new RRError(`Cannot use rpc.listen from ${loaded.file}: ${(error as Error).message}`);
  }
}
