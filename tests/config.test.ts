// Config loading: YAML errors, version, env expansion, -o overrides, weak typing,
// unknown keys, section defaults and validation messages.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig, type LoadConfigOptions } from "../src/config/schema.ts";
import { expandString } from "../src/config/expand.ts";
import { parseOverride } from "../src/config/overrides.ts";
import { ConfigError } from "../src/errors.ts";
import { makeTmpDir, type TmpDir } from "./helpers/index.ts";

let dir: TmpDir;
before(() => {
  dir = makeTmpDir("rr-config-");
});
after(() => dir.remove());

let counter = 0;
/** Write a config file and load it with an isolated env. */
function load(yaml: string, opts: Omit<LoadConfigOptions, "configPath"> = {}) {
  const name = `c${++counter}.yaml`;
  dir.write(name, yaml);
  return loadConfig({ cwd: dir.path, env: {}, ...opts, configPath: name });
}

/** Load and expect a ConfigError; returns its message. */
function loadError(yaml: string, opts: Omit<LoadConfigOptions, "configPath"> = {}): string {
  try {
    load(yaml, opts);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.message;
  }
  assert.fail("expected loading to fail");
}

const V3 = 'version: "3"\n';

describe("config file", () => {
  it("reports a missing file with its name and where it looked", () => {
    assert.throws(
      () => loadConfig({ cwd: dir.path, configPath: "missing.yaml", env: {} }),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^Cannot load config missing\.yaml: the file does not exist/);
        assert.ok(error.message.includes(join(dir.path, "missing.yaml")));
        return true;
      },
    );
  });

  it("reports YAML syntax errors with line and column", () => {
    const message = loadError(`${V3}server:\n  command: "php w.php"\n  env: [a, b\nrpc:\n  listen: x\n`);
    assert.match(message, /^Cannot load config c\d+\.yaml: YAML syntax error at line \d+, column \d+: /);
  });

  it("reports the line of a duplicate key", () => {
    const message = loadError(`${V3}rpc:\n  listen: tcp://127.0.0.1:1\nrpc:\n  listen: tcp://127.0.0.1:2\n`);
    assert.match(message, /YAML syntax error at line 4, column 1: .*[Uu]nique/);
  });

  it("requires a version", () => {
    assert.match(loadError("rpc: {}\n"), /version: the key is missing; add version: "3"/);
  });

  it("requires the version to be the string 3", () => {
    assert.match(loadError("version: 3\n"), /version: expected a string \("3"\) but found the number 3/);
    assert.match(loadError('version: "2.7"\n'), /version: expected "3" but found "2.7"; this is a RoadRunner 2.x config/);
  });

  it("rejects an empty file and a non-map root", () => {
    assert.match(loadError(""), /the file is empty/);
    assert.match(loadError("- a\n- b\n"), /expected a map of sections/);
  });
});

describe("validation messages", () => {
  it("names the file, the key path, what was expected and what was found", () => {
    const message = loadError(`${V3}server:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:0\n  pool:\n    num_workers: two\n`);
    assert.match(message, /^Cannot load config c\d+\.yaml: http\.pool\.num_workers: expected a number but found "two"$/);
  });

  it("reports bad durations and enum values", () => {
    const message = loadError(`${V3}endure:\n  grace_period: soon\nlogs:\n  mode: loud\n`);
    assert.ok(message.includes('endure.grace_period: expected a duration such as "60s", "1m" or "500ms" but found "soon"'), message);
    assert.ok(message.includes('logs.mode: expected one of development, production, raw, off but found "loud"'), message);
  });

  it("rejects a tcp relay without a host, with a hint", () => {
    const message = loadError(`${V3}server:\n  command: php w.php\n  relay: tcp://:6001\n`);
    assert.match(message, /server\.relay: "tcp:\/\/:6001" has no host: write tcp:\/\/127\.0\.0\.1:6001/);
  });

  it("rejects an unknown relay scheme", () => {
    assert.match(loadError(`${V3}server:\n  command: php w.php\n  relay: sockets\n`), /expected pipes, tcp:\/\/host:port or unix:\/\/\/path/);
  });

  it("requires server.command when a plugin needs workers", () => {
    assert.match(loadError(`${V3}http:\n  address: 127.0.0.1:0\n`), /server\.command: http runs PHP workers/);
    // A pool's own command is enough.
    const { config } = load(`${V3}http:\n  address: 127.0.0.1:0\n  pool:\n    command: php w.php\n`);
    assert.equal(config.server, undefined);
  });
});

describe("unknown keys", () => {
  it("warns with a did-you-mean suggestion naming the full key path", () => {
    const { warnings } = load(`${V3}server:\n  command: php w.php\n  relya: pipes\nhttp:\n  address: 127.0.0.1:0\n  pool:\n    num_wrkers: 2\n`);
    const messages = warnings.map((w) => w.message);
    assert.ok(messages.some((m) => m.includes("unknown key server.relya") && m.includes("did you mean server.relay?")), messages.join("\n"));
    assert.ok(messages.some((m) => m.includes("unknown key http.pool.num_wrkers") && m.includes("did you mean http.pool.num_workers?")), messages.join("\n"));
  });

  it("warns about unknown sections with a suggestion, and about RoadRunner sections rr does not support", () => {
    const { warnings, config } = load(`${V3}htpp:\n  address: x\ngrpc:\n  listen: tcp://127.0.0.1:9001\n`);
    const messages = warnings.map((w) => w.message);
    assert.ok(messages.some((m) => m.includes("unknown section htpp") && m.includes("did you mean http?")), messages.join("\n"));
    assert.ok(messages.includes("section grpc is not supported by rr yet; it is ignored"), messages.join("\n"));
    assert.equal((config as Record<string, unknown>).grpc, undefined);
  });

  it("accepts server.relay_timeout with a deprecation warning", () => {
    const { warnings } = load(`${V3}server:\n  command: php w.php\n  relay_timeout: 60s\n`);
    assert.ok(warnings.some((w) => w.path === "server.relay_timeout" && w.message.includes("removed")));
  });
});

describe("environment expansion", () => {
  it("expands $VAR, ${VAR} and ${VAR:-default}", () => {
    const env = { HOST: "127.0.0.1", PORT: "8080", EMPTY: "" };
    assert.equal(expandString("$HOST:${PORT}", env), "127.0.0.1:8080");
    assert.equal(expandString("${UNSET:-fallback}", env), "fallback");
    assert.equal(expandString("${EMPTY:-fallback}", env), "fallback");
    assert.equal(expandString("${PORT:-1}", env), "8080");
    assert.equal(expandString("x${UNSET}y", env), "xy");
    assert.equal(expandString("cost $5 and $$", env), "cost $5 and $$");
  });

  it("uses the default of ${VAR:-default} when VAR is unset, in strings and lists", () => {
    const { config } = load(
      `${V3}server:\n  command: ["php", "\${SCRIPT:-worker.php}"]\n  env:\n    app_env: \${APP_ENV:-prod}\nrpc:\n  listen: tcp://\${RPC_HOST:-127.0.0.1}:\${RPC_PORT:-6001}\n`,
      { env: { RPC_PORT: "7001" } },
    );
    assert.deepEqual(config.server?.command, ["php", "worker.php"]);
    assert.deepEqual(config.server?.env, { APP_ENV: "prod" });
    assert.equal(config.rpc?.listen, "tcp://127.0.0.1:7001");
  });

  it("coerces expanded strings where the schema wants numbers and booleans", () => {
    const { config } = load(
      `${V3}server:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:0\n  pool:\n    num_workers: \${WORKERS:-2}\n    debug: \${DEBUG:-false}\n`,
      { env: { DEBUG: "true" } },
    );
    assert.equal(config.http?.pool.num_workers, 2);
    assert.equal(config.http?.pool.debug, true);
    // An unset variable where a number is wanted means "not set": the default applies.
    const unset = load(`${V3}server:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:0\n  pool:\n    max_jobs: \${MAX_JOBS}\n`);
    assert.equal(unset.config.http?.pool.max_jobs, 0);
  });
});

describe("-o overrides", () => {
  const base = `${V3}server:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:0\n  pool:\n    num_workers: 1\n`;

  it("sets dotted keys, typed by the schema, in order", () => {
    const { config } = load(base, {
      overrides: ["http.pool.num_workers=4", "http.pool.supervisor.exec_ttl=2s", "rpc.listen='tcp://127.0.0.1:0'", "http.pool.num_workers=5"],
    });
    assert.equal(config.http?.pool.num_workers, 5);
    assert.equal(config.http?.pool.supervisor?.exec_ttl, 2000);
    assert.equal(config.rpc?.listen, "tcp://127.0.0.1:0");
  });

  it("expands env references in override values", () => {
    const { config } = load(base, { overrides: ["http.address=127.0.0.1:${PORT:-9000}"] });
    assert.equal(config.http?.address, "127.0.0.1:9000");
  });

  it("rejects an override without =, with an empty key or an empty value", () => {
    assert.throws(() => load(base, { overrides: ["http.pool.num_workers"] }), /Cannot apply override -o http\.pool\.num_workers: expected key\.path=value/);
    assert.throws(() => load(base, { overrides: ["=4"] }), /the key before "=" is empty/);
    assert.throws(() => load(base, { overrides: ["http..x=4"] }), /has an empty part/);
    assert.throws(() => parseOverride("a.b="), /the value after "=" is empty/);
  });

  it("rejects an override below a scalar and a value of the wrong type", () => {
    assert.throws(() => load(base, { overrides: ["http.address.port=1"] }), /http\.address is not a map/);
    assert.throws(() => load(base, { overrides: ["http.pool.num_workers=many"] }), /http\.pool\.num_workers: expected a number but found "many"/);
  });
});

describe("sections and defaults", () => {
  it("fills RoadRunner's defaults and parses durations and sizes once", () => {
    const { config } = load(`${V3}server:\n  command: "php  worker.php --x"\n  on_init:\n    command: php init.php\nrpc: {}\nhttp:\n  address: 127.0.0.1:0\n  max_request_size: 2\n  pool:\n    allocate_timeout: 1m30s\n    supervisor:\n      ttl: 500ms\n`);
    assert.deepEqual(config.server?.command, ["php", "worker.php", "--x"]);
    assert.equal(config.server?.relay, "pipes");
    assert.equal(config.server?.on_init?.exec_timeout, 60_000);
    assert.equal(config.server?.on_init?.exit_on_error, false);
    assert.equal(config.rpc?.listen, "tcp://127.0.0.1:6001");
    assert.equal(config.rpc?.listenExplicit, false);
    assert.equal(config.endure.grace_period, 30_000);
    assert.equal(config.http?.max_request_size, 2 * 1024 * 1024);
    assert.equal(config.http?.pool.allocate_timeout, 90_000);
    assert.equal(config.http?.pool.supervisor?.ttl, 500);
    assert.equal(config.http?.pool.destroy_timeout, 60_000);
  });

  it("resolves YAML anchors and merge keys", () => {
    const { config, warnings } = load(`${V3}x-pool: &pool\n  num_workers: 3\n  max_jobs: 5\nserver:\n  command: php w.php\nhttp:\n  address: 127.0.0.1:0\n  pool:\n    <<: *pool\n    max_jobs: 9\n`);
    assert.equal(config.http?.pool.num_workers, 3);
    assert.equal(config.http?.pool.max_jobs, 9);
    assert.deepEqual(warnings, [], "x- keys are for anchors and draw no warning");
  });

  it("treats an empty value (key:) as unset", () => {
    const { config } = load(`${V3}server:\n  command: php w.php\n  user:\n  env:\n`);
    assert.equal(config.server?.user, undefined);
    assert.deepEqual(config.server?.env, {});
  });

  it("accepts a single string where a list is expected", () => {
    const { config } = load(`${V3}logs:\n  output: stdout\n  channels:\n    http:\n      level: INFO\n`);
    assert.deepEqual(config.logs.output, ["stdout"]);
    assert.equal(config.logs.channels.http.level, "info");
  });
});

describe("working directory, dotenv and include", () => {
  it("uses the config file's directory unless -w is given", () => {
    dir.write("app/.rr.yaml", `${V3}rpc: {}\n`);
    const loaded = loadConfig({ cwd: dir.path, configPath: "app/.rr.yaml", env: {} });
    assert.equal(loaded.workDir, join(dir.path, "app"));
    const other = loadConfig({ cwd: dir.path, configPath: "app/.rr.yaml", workDir: ".", env: {} });
    assert.equal(other.workDir, dir.path);
    assert.throws(
      () => loadConfig({ cwd: dir.path, configPath: "app/.rr.yaml", workDir: "nope", env: {} }),
      /Cannot use working directory nope: it does not exist/,
    );
  });

  it("loads --dotenv first without overwriting variables already set", () => {
    dir.write("test.env", "# comment\nexport RPC_PORT=7101\nRPC_HOST='127.0.0.2'\nKEEP=from-file\n");
    const env: Record<string, string> = { KEEP: "from-env" };
    const { config } = load(`${V3}rpc:\n  listen: tcp://\${RPC_HOST}:\${RPC_PORT}\nserver:\n  command: php w.php\n  env:\n    keep: \${KEEP}\n`, {
      env,
      dotenv: "test.env",
    });
    assert.equal(config.rpc?.listen, "tcp://127.0.0.2:7101");
    assert.equal(config.server?.env.KEEP, "from-env");
    assert.throws(() => load(V3, { dotenv: "nope.env" }), /Cannot load dotenv file nope\.env: the file does not exist/);
    // DOTENV_PATH in the environment wins over the flag, as in RoadRunner.
    dir.write("other.env", "RPC_PORT=7202\n");
    const viaEnv = load(`${V3}rpc:\n  listen: tcp://127.0.0.1:\${RPC_PORT}\n`, { env: { DOTENV_PATH: "other.env" }, dotenv: "test.env" });
    assert.equal(viaEnv.config.rpc?.listen, "tcp://127.0.0.1:7202");
  });

  it("merges include files over the root", () => {
    dir.write("inc/base.yaml", `${V3}rpc:\n  listen: tcp://127.0.0.1:1\nlogs:\n  mode: production\n`);
    dir.write("inc/more.yaml", `${V3}rpc:\n  listen: tcp://127.0.0.1:2\n`);
    dir.write("inc/.rr.yaml", `${V3}include: [base.yaml, more.yaml]\nlogs:\n  level: warn\n`);
    const { config } = loadConfig({ cwd: dir.path, configPath: "inc/.rr.yaml", env: {} });
    assert.equal(config.rpc?.listen, "tcp://127.0.0.1:2");
    assert.equal(config.logs.mode, "production");
    assert.equal(config.logs.level, "warn");
  });
});
