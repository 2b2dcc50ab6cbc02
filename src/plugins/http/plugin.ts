// The http plugin: serves HTTP with the runtime's server (via the platform layer) and hands every
// request to a PHP worker as one goridge frame (context ‖ body), then turns the reply frames into
// the HTTP response (shared/spec/http.md).
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import type { HttpConfig } from "../../config/sections/http.ts";
import { ConfigError } from "../../errors.ts";
import { FLAG } from "../../goridge/frame.ts";
import type { Logger } from "../../logs/types.ts";
import type { HttpServer } from "../../platform/types.ts";
import type { Pool } from "../../pool/types.ts";
import { concatBytes } from "../../util/bytes.ts";
import type { Payload } from "../../worker/types.ts";
import type { ServerPlugin } from "../server.ts";
import type { Plugin, PluginContext, WorkerInfo } from "../types.ts";
import { parseListenAddress } from "./address.ts";
import { classifyBody, EMPTY, parseMultipart, parseUrlencoded, type PreparedBody } from "./body.ts";
import { encodeJsonContext } from "./context-json.ts";
import { encodeProtoContext } from "./context-proto.ts";
import type { RequestContext } from "./context.ts";
import { parseCookies } from "./cookies.ts";
import { headerValueText } from "./canonical.ts";
import { workerErrorResponse } from "./errors.ts";
import { FormTreeError } from "./form-tree.ts";
import { gzipMiddleware, streamedResponses } from "./gzip.ts";
import { headersMiddleware } from "./headers.ts";
import type { Handler, Middleware } from "./middleware.ts";
import { DEFAULT_TRUSTED_SUBNETS, proxyIpMiddleware } from "./proxy-ip.ts";
import { type HttpMetricsSink, metricsMiddleware } from "./metrics.ts";
import { bodyWithDoneHook, singleFrameResponse, streamedResponse, WorkerReplyError } from "./response.ts";
import { staticMiddleware } from "./static.ts";
import { removeUploads, type UploadRules } from "./uploads.ts";

/** Middlewares of RoadRunner that rr does not implement: listed ones are ignored with a warning. */
const UNSUPPORTED_MIDDLEWARE = new Set(["sendfile", "otel", "cache", "new_relic"]);

class BodyTooLarge extends Error {}

export class HttpPlugin implements Plugin {
  readonly name = "http";
  readonly dependsOn = ["server"] as const;

  private pool: Pool | undefined;
  private servers: HttpServer[] = [];
  private logger!: Logger;
  private config!: HttpConfig;
  private maxBody = 0;
  private rawBody = false;
  private proto = false;
  private errorCode = 500;
  private debug = false;
  private accessLogs = false;
  private tls = false;
  /**
   * Queued requests of clients that went away are dropped (request.signal). Deno's signal also
   * aborts after every successful response and warns about it, so it is used on Bun only.
   */
  private useAbortSignal = false;
  private uploadRules!: UploadRules;
  /** The metrics plugin, when configured (http_metrics middleware). */
  private metrics: HttpMetricsSink | undefined;

  async start(ctx: PluginContext): Promise<void> {
    const config = ctx.config.http;
    if (!config) throw new ConfigError("The http section is missing in .rr.yaml");
    this.config = config;
    this.logger = ctx.logger("http");
    this.maxBody = config.max_request_size;
    this.rawBody = config.raw_body;
    this.proto = config.context_codec === "proto";
    this.errorCode = config.internal_error_code;
    this.debug = config.pool.debug;
    this.accessLogs = config.access_logs;
    this.useAbortSignal = ctx.platform.runtime.name === "bun";
    this.uploadRules = {
      dir: config.uploads.dir === "" ? tmpdir() : resolve(config.uploads.dir),
      forbid: config.uploads.forbid,
      allow: config.uploads.allow.filter((ext) => !config.uploads.forbid.includes(ext)),
    };
    if (config.address === "" && !config.ssl) {
      throw new ConfigError('http.address is missing: set it to "host:port", e.g. "0.0.0.0:8080" (or configure http.ssl)');
    }
    const plain = config.address !== "" ? parseListenAddress(config.address, "http.address") : null;
    const secure = config.ssl ? parseListenAddress(config.ssl.address, "http.ssl.address") : null;
    const tls = config.ssl ? await this.loadTls(config) : undefined;
    if (config.http2?.h2c) {
      this.logger.warn("http.http2.h2c is not supported by the runtime's HTTP server and is ignored; HTTP/2 is offered over TLS where the runtime supports it (Deno)");
    }

    // Middleware config errors surface before any worker starts.
    this.metrics = ctx.plugin<Plugin & HttpMetricsSink>("metrics");
    const handler = this.buildChain(config);
    const server = ctx.plugin<ServerPlugin>("server");
    if (!server) throw new ConfigError("The http plugin needs the server section: add `server: { command: \"php worker.php\" }` to .rr.yaml");
    this.pool = await server.newPool("http", config.pool, { RR_MODE: "http" });

    // The runtime's own cap (Bun defaults to 128 MB) must not undercut max_request_size.
    const runtimeLimit = ctx.platform.runtime.name === "bun" ? (this.maxBody > 0 ? this.maxBody : Number.MAX_SAFE_INTEGER) : undefined;
    const serve = (address: { hostname: string; port: number }, withTls: typeof tls, h: Handler) =>
      ctx.platform.serveHttp({
        hostname: address.hostname,
        port: address.port,
        tls: withTls,
        maxRequestBodySize: runtimeLimit,
        // Bun closes a connection silent for 10 s by default, even while PHP is still working on
        // the request; RoadRunner allows 5 minutes. 255 s is Bun's maximum.
        idleTimeout: 255,
        handler: (request, info) => h(request, { remoteAddr: normalizeIp(info.remoteAddress), extraHeaders: null }),
      });
    try {
      if (secure && tls) {
        this.tls = true;
        const s = await serve(secure, tls, handler);
        this.servers.push(s);
        this.logger.info(`https server listening on ${s.hostname}:${s.port}`);
      }
      if (plain) {
        const h = config.ssl?.redirect && secure ? redirectHandler(secure.port) : handler;
        const s = await serve(plain, undefined, h);
        this.servers.push(s);
        this.logger.info(`http server listening on ${s.hostname}:${s.port}`);
      }
    } catch (error) {
      await this.stop(true);
      throw new ConfigError(`Cannot start the http server: ${(error as Error).message}. Is the port already in use?`);
    }
  }

  /** The bound ports (after listening), for tests and logs. */
  get ports(): number[] {
    return this.servers.map((s) => s.port);
  }

  async stop(force: boolean): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    await Promise.allSettled(servers.map((s) => s.stop(force)));
    await this.pool?.destroy();
    this.pool = undefined;
  }

  workers(): Promise<WorkerInfo[]> {
    return this.pool ? this.pool.workers() : Promise.resolve([]);
  }

  async reset(): Promise<void> {
    await this.pool?.reset();
  }

  ready(): boolean {
    return this.pool?.ready() ?? false;
  }

  private async loadTls(config: HttpConfig): Promise<{ cert: string; key: string; ca?: string }> {
    const ssl = config.ssl!;
    const read = async (path: string, key: string) => {
      if (path === "") throw new ConfigError(`http.ssl.${key} is missing: set it to the path of a PEM file`);
      try {
        return await readFile(resolve(path), "utf8");
      } catch (error) {
        throw new ConfigError(`Cannot read http.ssl.${key} "${path}": ${(error as Error).message}`);
      }
    };
    return {
      cert: await read(ssl.cert, "cert"),
      key: await read(ssl.key, "key"),
      ...(ssl.root_ca !== "" ? { ca: await read(ssl.root_ca, "root_ca") } : {}),
    };
  }

  /** The middleware list wraps the worker handler; the last listed is the outermost (RoadRunner docs). */
  private buildChain(config: HttpConfig): Handler {
    let handler: Handler = this.handleWithWorker;
    const listed = config.middleware;
    const proxyListed = listed.includes("proxy_ip_parser");
    for (const name of listed) {
      const middleware = this.middleware(name, config);
      if (middleware) handler = middleware(handler);
    }
    // trusted_subnets alone (RoadRunner 2.x style) still enables the real-IP parsing.
    if (!proxyListed && config.trusted_subnets && config.trusted_subnets.length > 0) {
      handler = proxyIpMiddleware(config.trusted_subnets)(handler);
    }
    return handler;
  }

  private middleware(name: string, config: HttpConfig): Middleware | null {
    switch (name) {
      case "headers":
        if (!config.headers) {
          this.logger.warn('Middleware "headers" is listed but http.headers is not configured; it is ignored');
          return null;
        }
        return headersMiddleware(config.headers);
      case "static":
        if (!config.static) {
          this.logger.warn('Middleware "static" is listed but http.static is not configured; it is ignored');
          return null;
        }
        if (!isDirectory(resolve(config.static.dir))) {
          throw new ConfigError(`http.static.dir "${config.static.dir}" is not a directory: create it or fix the path (relative paths resolve against ${process.cwd()})`);
        }
        return staticMiddleware(config.static, process.cwd());
      case "gzip":
        return gzipMiddleware();
      case "http_metrics":
        if (!this.metrics) {
          this.logger.warn('Middleware "http_metrics" is listed but there is no metrics section; add `metrics: { address: "127.0.0.1:2112" }`');
          return null;
        }
        return metricsMiddleware(this.metrics);
      case "proxy_ip_parser":
        return proxyIpMiddleware(config.trusted_subnets ?? DEFAULT_TRUSTED_SUBNETS);
      default:
        this.logger.warn(
          UNSUPPORTED_MIDDLEWARE.has(name)
            ? `Middleware "${name}" is not supported by rr and is ignored`
            : `Middleware "${name}" does not exist and is ignored; known: headers, static, gzip, proxy_ip_parser, http_metrics`,
        );
        return null;
    }
  }

  /** The innermost handler: request → context frame → worker → response. */
  private handleWithWorker: Handler = async (request, state) => {
    const started = this.accessLogs ? performance.now() : 0;
    const method = request.method;
    const headers = request.headers;
    const created: string[] = [];
    let prepared: PreparedBody = NO_BODY;
    // Most requests carry no body: skip the async body path (one await less per request).
    if (this.hasBody(request, headers) || method === "POST" || method === "PUT" || method === "PATCH") {
      try {
        prepared = await this.prepareBody(request, method, headers, created);
      } catch (error) {
        if (created.length > 0) void removeUploads(created);
        return this.bodyErrorResponse(error, request);
      }
    }
    const url = request.url;
    const q = url.indexOf("?");
    const ctx: RequestContext = {
      remoteAddr: state.remoteAddr,
      protocol: "HTTP/1.1",
      method,
      uri: url,
      rawQuery: q < 0 ? "" : url.slice(q + 1),
      headers,
      extraHeaders: state.extraHeaders,
      cookies: parseCookies(cookieHeader(headers)),
      parsed: prepared.parsed,
      uploads: prepared.uploads,
      attributes: null,
    };
    const payload: Payload = this.proto
      ? { context: encodeProtoContext(ctx), body: prepared.body, codec: FLAG.CODEC_PROTO }
      : { context: encodeJsonContext(ctx), body: prepared.body, codec: FLAG.CODEC_JSON };
    const cleanup = created.length > 0 ? () => void removeUploads(created) : null;
    let response: Response;
    try {
      const reply = await this.pool!.exec(payload, this.useAbortSignal ? request.signal : undefined);
      if (reply.stream) {
        response = await streamedResponse(reply, reply.stream, cleanup ?? noop);
        streamedResponses.add(response);
      } else {
        response = singleFrameResponse(reply);
        if (cleanup) response = bodyWithDoneHook(response, cleanup);
      }
    } catch (error) {
      cleanup?.();
      response = this.workerFailure(error, request);
    }
    if (this.accessLogs) {
      this.logger.info("http access log", {
        status: response.status,
        method,
        URI: url,
        remote_address: state.remoteAddr,
        elapsed: `${(performance.now() - started).toFixed(3)}ms`,
      });
    }
    return response;
  };

  private async prepareBody(request: Request, method: string, headers: Headers, created: string[]): Promise<PreparedBody> {
    const contentType = headers.get("content-type");
    const kind = classifyBody(method, contentType, this.rawBody);
    if (kind === "none" || !this.hasBody(request, headers)) {
      return kind === "urlencoded" || kind === "multipart"
        ? { body: new TextEncoder().encode("{}"), parsed: true, uploads: kind === "multipart" ? "{}" : null }
        : { body: EMPTY, parsed: false, uploads: null };
    }
    const bytes = await readBody(request, headers, this.maxBody);
    if (kind === "raw") return { body: bytes, parsed: false, uploads: null };
    if (kind === "urlencoded") return parseUrlencoded(method, bytes);
    return await parseMultipart(method, contentType!, bytes, this.uploadRules, created);
  }

  // HTTP/1.1 bodies are announced by Content-Length or Transfer-Encoding; HTTP/2 (TLS) may omit both.
  private hasBody(request: Request, headers: Headers): boolean {
    const length = headers.get("content-length");
    if (length !== null) return length !== "0";
    if (headers.has("transfer-encoding")) return true;
    return this.tls && request.body !== null;
  }

  private bodyErrorResponse(error: unknown, request: Request): Response {
    if (error instanceof BodyTooLarge) {
      return new Response(`Request body is larger than http.max_request_size (${this.maxBody} bytes)\n`, { status: 413 });
    }
    const message = error instanceof FormTreeError ? error.message : `Cannot parse the request body: ${(error as Error).message}`;
    this.logger.warn(message, { method: request.method, URI: request.url });
    return new Response(`${message}\n`, { status: 400, headers: { "Content-Type": "text/plain; charset=utf-8" } });
  }

  private workerFailure(error: unknown, request: Request): Response {
    if (this.useAbortSignal && request.signal.aborted) return new Response(null, { status: 499 });
    this.logger.error(`Request failed: ${(error as Error).message ?? String(error)}`, { method: request.method, URI: request.url });
    if (error instanceof WorkerReplyError) {
      return new Response(this.debug ? `${error.message}\n` : null, { status: 500 });
    }
    return workerErrorResponse(error, this.errorCode, this.debug);
  }
}

function noop(): void {}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function cookieHeader(headers: Headers): string | null {
  const value = headers.get("cookie");
  return value === null ? null : headerValueText(value);
}

const NO_BODY: PreparedBody = { body: EMPTY, parsed: false, uploads: null };

/** Read the whole body, refusing more than `limit` bytes (0 = no limit). */
async function readBody(request: Request, headers: Headers, limit: number): Promise<Uint8Array> {
  try {
    return await readBodyUnchecked(request, headers, limit);
  } catch (error) {
    // The runtime enforces the same limit on chunked bodies and fails the read its own way.
    if (limit > 0 && /maxRequestBodySize|too large|payload/i.test((error as Error).message)) throw new BodyTooLarge();
    throw error;
  }
}

async function readBodyUnchecked(request: Request, headers: Headers, limit: number): Promise<Uint8Array> {
  const declared = headers.get("content-length");
  if (limit > 0 && declared !== null && Number(declared) > limit) throw new BodyTooLarge();
  if (limit === 0 || declared !== null || request.body === null) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (limit > 0 && bytes.length > limit) throw new BodyTooLarge();
    return bytes;
  }
  // Chunked: count as we go so an endless body cannot fill memory.
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return concatBytes(chunks, size);
}

/** "::ffff:127.0.0.1" (dual-stack listeners) → "127.0.0.1", as Go reports IPv4 peers. */
function normalizeIp(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** ssl.redirect: the plain server answers 308 to https (with HSTS), never reaching PHP. */
function redirectHandler(httpsPort: number): Handler {
  return (request) => {
    const url = new URL(request.url);
    url.protocol = "https:";
    url.port = httpsPort === 443 ? "" : String(httpsPort);
    return new Response(null, {
      status: 308,
      headers: {
        Location: url.toString(),
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
      },
    });
  };
}

export function createHttpPlugin(): Plugin {
  return new HttpPlugin();
}
