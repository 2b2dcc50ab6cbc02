// Loading .rr.yaml: --dotenv, read, YAML parse, env expansion, -o overrides, version
// check, include, validation (shared/spec/plugins.md §7.1). Pure apart from the env
// it is given: the caller chdirs into `workDir`.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "../errors.ts";
import type { ConfigWarning } from "./errors.ts";
import { type Env, expandTree, isMap } from "./expand.ts";
import { applyOverrides } from "./overrides.ts";
import { type RRConfig, validateConfig } from "./schema.ts";
import { checkVersion } from "./sections/version.ts";

export interface LoadConfigOptions {
  /** -c/--config; default ".rr.yaml". Relative to `cwd`. */
  configPath?: string;
  /** -w/--workdir: where rr runs; default: the config file's directory. */
  workDir?: string;
  /** -o key.path=value, in order. */
  overrides?: readonly string[];
  /** --dotenv FILE (DOTENV_PATH in `env` wins, as in RoadRunner). */
  dotenv?: string;
  /** The environment to expand from; --dotenv adds to it. Default process.env. */
  env?: Env;
  /** Where relative -c/-w/--dotenv paths start. Default process.cwd(). */
  cwd?: string;
}

export interface LoadedConfig {
  config: RRConfig;
  /** The tree after expansion and overrides (what `rpc.Config` reports). */
  raw: Record<string, unknown>;
  /** Absolute path of the config file. */
  path: string;
  /** The path as the user wrote it, for messages. */
  file: string;
  /** Absolute directory rr should chdir into. */
  workDir: string;
  warnings: ConfigWarning[];
}

export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const dotenv = env.DOTENV_PATH || opts.dotenv;
  if (dotenv) loadDotenv(resolve(cwd, dotenv), dotenv, env);

  const file = opts.configPath ?? ".rr.yaml";
  const path = resolve(cwd, file);
  const raw = readYamlMap(path, file);
  expandTree(raw, env);
  applyOverrides(raw, opts.overrides ?? [], env);
  checkVersion(file, raw.version);

  const workDir = opts.workDir ? resolve(cwd, opts.workDir) : dirname(path);
  if (opts.workDir && !isDirectory(workDir)) {
    throw new ConfigError(`Cannot use working directory ${opts.workDir}: it does not exist or is not a directory (-w/--workdir)`);
  }
  if (raw.include !== undefined) applyIncludes(raw, file, workDir, env);

  const { config, warnings } = validateConfig(raw, file);
  return { config, raw, path, file, workDir, warnings };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readYamlMap(path: string, file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") {
      throw new ConfigError(
        `Cannot load config ${file}: the file does not exist (looked for ${path}); pass -c path/to/.rr.yaml or run rr where .rr.yaml is`,
      );
    }
    if (code === "EISDIR") throw new ConfigError(`Cannot load config ${file}: it is a directory, not a YAML file`);
    throw new ConfigError(`Cannot load config ${file}: ${(error as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const pos = error.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
    const reason = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new ConfigError(`Cannot load config ${file}: YAML syntax error${where}: ${reason}`);
  }
  const root: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (root === null || root === undefined) {
    throw new ConfigError(`Cannot load config ${file}: the file is empty; it needs at least version: "3"`);
  }
  if (!isMap(root)) {
    throw new ConfigError(`Cannot load config ${file}: expected a map of sections (version:, server:, ...) at the top level`);
  }
  return root;
}

/** KEY=VALUE lines (optional `export `, quotes, # comments); variables already set are kept. */
function loadDotenv(path: string, file: string, env: Env): void {
  if (!existsSync(path)) {
    throw new ConfigError(`Cannot load dotenv file ${file}: the file does not exist (looked for ${path})`);
  }
  const lines = readFileSync(path, "utf8").split(/\r?\n/);
  lines.forEach((line, index) => {
    const text = line.trim();
    if (text === "" || text.startsWith("#")) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(text);
    if (!match) {
      throw new ConfigError(`Cannot load dotenv file ${file}: line ${index + 1}: expected KEY=VALUE but found ${JSON.stringify(text)}`);
    }
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\"/g, '"');
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    if (env[match[1]] === undefined) env[match[1]] = value;
  });
}

/** `include: [a.yaml, b.yaml]`: each with the same version; later files override earlier ones and the root. */
function applyIncludes(raw: Record<string, unknown>, file: string, workDir: string, env: Env): void {
  const list = typeof raw.include === "string" ? [raw.include] : raw.include;
  if (!Array.isArray(list) || list.some((item) => typeof item !== "string")) {
    throw new ConfigError(`Cannot load config ${file}: include: expected a list of file paths but found ${JSON.stringify(raw.include)}`);
  }
  delete raw.include;
  for (const included of list as string[]) {
    const tree = readYamlMap(resolve(workDir, included), included);
    expandTree(tree, env);
    checkVersion(included, tree.version);
    if (tree.version !== raw.version) {
      throw new ConfigError(`Cannot load config ${included}: version "${tree.version}" differs from ${file}'s "${raw.version}"`);
    }
    merge(raw, tree);
  }
}

function merge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isMap(existing) && isMap(value)) merge(existing, value);
    else target[key] = value;
  }
}
