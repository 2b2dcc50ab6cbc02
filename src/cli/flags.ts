// The persistent flags every command takes (shared/spec/plugins.md §7.6). They may appear
// before or after the command name (`rr -c x.yaml serve` or `rr serve -c x.yaml`), and -o
// repeats, so we read them from the whole argv ourselves; citty declares them for --help.
import { RRError } from "../errors.ts";

export interface GlobalFlags {
  /** -c/--config */
  config: string;
  /** -w/--workdir (also --WorkDir, RoadRunner's spelling) */
  workDir?: string;
  /** -o/--override key=value, in order */
  overrides: string[];
  /** --dotenv FILE */
  dotenv?: string;
  /** -s/--silent */
  silent: boolean;
  /** -d/--debug */
  debug: boolean;
  /** -p/--pid: write .pid in the working directory */
  pid: boolean;
}

/** citty definitions of the global flags (for help and for telling flags from commands). */
export const globalArgs = {
  config: { type: "string", alias: "c", description: "Config file", default: ".rr.yaml", valueHint: "file" },
  workdir: { type: "string", alias: "w", description: "Working directory (default: the config file's directory)", valueHint: "dir" },
  override: { type: "string", alias: "o", description: "Override a config value, e.g. -o http.pool.num_workers=4 (repeatable)", valueHint: "key=value" },
  dotenv: { type: "string", description: "Load environment variables from this file first", valueHint: "file" },
  silent: { type: "boolean", alias: "s", description: "No log output" },
  debug: { type: "boolean", alias: "d", description: "Debug log level; print stack traces of internal errors" },
  pid: { type: "boolean", alias: "p", description: "Write rr's pid to .pid in the working directory" },
} as const;

const VALUE_FLAGS: Record<string, "config" | "workDir" | "override" | "dotenv"> = {
  "-c": "config",
  "--config": "config",
  "-w": "workDir",
  "--workdir": "workDir",
  "--WorkDir": "workDir",
  "--work-dir": "workDir",
  "-o": "override",
  "--override": "override",
  "--dotenv": "dotenv",
};
const BOOL_FLAGS: Record<string, "silent" | "debug" | "pid"> = {
  "-s": "silent",
  "--silent": "silent",
  "-d": "debug",
  "--debug": "debug",
  "-p": "pid",
  "--pid": "pid",
};

/** Read the global flags from the full argv (everything after the script). */
export function parseGlobalFlags(argv: readonly string[]): GlobalFlags {
  const flags: GlobalFlags = { config: ".rr.yaml", overrides: [], silent: false, debug: false, pid: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") break;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const bool = BOOL_FLAGS[name];
    if (bool) {
      flags[bool] = eq > 0 ? arg.slice(eq + 1) !== "false" : true;
      continue;
    }
    let key = VALUE_FLAGS[name];
    let value: string | undefined;
    if (key) {
      if (eq > 0) value = arg.slice(eq + 1);
      else {
        value = argv[++i];
        if (value === undefined) throw new RRError(`Flag ${arg} needs a value (see rr --help)`);
      }
    } else if (/^-[cwo]./.test(arg)) {
      // -ohttp.x=1, -cfile.yaml
      key = VALUE_FLAGS[arg.slice(0, 2)];
      value = arg.slice(2);
    }
    if (!key || value === undefined) continue;
    if (key === "override") flags.overrides.push(value);
    else flags[key] = value;
  }
  return flags;
}
