// Start `rr serve` with an http section and a PHP fixture worker, for the http tests.
import { join } from "node:path";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { freePort, makeTmpDir, ROOT, startRR, type RunningProcess, type TmpDir } from "./helpers/index.ts";

export const HTTP_FIXTURES: string = join(ROOT, "tests/fixtures/php/http");

export interface RRHttp {
  /** "http://127.0.0.1:<port>" */
  url: string;
  port: number;
  dir: TmpDir;
  proc: RunningProcess;
  stop(): Promise<void>;
}

export interface RRHttpOptions {
  /** Fixture script name under tests/fixtures/php/http, e.g. "inspect.php". */
  worker: string;
  /** Extra http: keys (merged over address and pool). */
  http?: Record<string, unknown>;
  pool?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Run a compiled binary instead of the sources. */
  bin?: string;
  /** Other top-level sections (e.g. rpc). */
  extra?: Record<string, unknown>;
}

/** Start rr (config written as JSON, which is YAML) and wait until the http server listens. */
export async function startHttp(opts: RRHttpOptions): Promise<RRHttp> {
  const dir = makeTmpDir("rr-http-");
  const port = await freePort();
  const config = {
    version: "3",
    server: { command: `php ${join(HTTP_FIXTURES, opts.worker)}`, relay: "pipes", env: opts.env ?? {} },
    http: { address: `127.0.0.1:${port}`, pool: { num_workers: 1, ...opts.pool }, ...opts.http },
    logs: { mode: "development", level: "info" },
    ...opts.extra,
  };
  const file = dir.write(".rr.yaml", JSON.stringify(config, null, 2));
  const proc = startRR(["serve", "-c", file], { cwd: dir.path, bin: opts.bin });
  try {
    await proc.waitForOutput(/http server listening on/, 20_000);
  } catch (error) {
    await proc.kill();
    dir.remove();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    proc,
    async stop() {
      proc.signal("SIGTERM");
      const timer = setTimeout(() => proc.signal("SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(timer);
      dir.remove();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/** A request through node:http: no automatic decompression, no URL normalisation of the path. */
export function rawRequest(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      res.on("end", () => {
        const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let pos = 0;
        for (const c of chunks) {
          body.set(c, pos);
          pos += c.length;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** Send raw bytes on a TCP connection and collect everything until the server closes it. */
export function rawExchange(port: number, data: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (out += chunk));
    socket.on("end", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(data);
  });
}
