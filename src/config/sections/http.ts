// The `http:` section (shared/spec/http.md §4). Where RoadRunner's docs and code
// disagree we follow the docs (see docs notes on each key below):
// - max_request_size: 0 or absent means "no limit" (the Go code turns 0 into 1000 MB).
// - uploads.forbid: defaults to [".php", ".exe", ".bat"] (the Go code has no default).
// - middleware order: the LAST listed middleware is the outermost (v5 and the docs).
import * as v from "valibot";
import { size } from "../valibot-units.ts";
import { PoolSchema } from "./pool.ts";

const stringList = () => v.optional(v.array(v.string()), []);
const headerMap = () => v.optional(v.record(v.string(), v.union([v.string(), v.number()])), {});

/** ".PHP" and "php" both mean ".php": extension lists are compared lower-case with the dot. */
const extensionList = (fallback: string[]) =>
  v.pipe(
    v.optional(v.array(v.string()), fallback),
    v.transform((list: string[]) =>
      list.map((ext) => {
        const lower = ext.trim().toLowerCase();
        return lower.startsWith(".") ? lower : `.${lower}`;
      })
    ),
  );

const CIDR_RE = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/;

export const UploadsSchema = v.object({
  /** Where uploaded files are written; default: the OS temp dir. */
  dir: v.optional(v.string(), ""),
  /** Forbidden extensions (error 8 UPLOAD_ERR_EXTENSION); forbid wins over allow. */
  forbid: extensionList([".php", ".exe", ".bat"]),
  /** When non-empty, only these extensions are accepted. */
  allow: extensionList([]),
});

export const CorsSchema = v.object({
  allowed_origin: v.optional(v.string(), ""),
  allowed_origin_regex: v.optional(v.string(), ""),
  allowed_headers: v.optional(v.string(), ""),
  allowed_methods: v.optional(v.string(), ""),
  allow_credentials: v.optional(v.boolean(), false),
  exposed_headers: v.optional(v.string(), ""),
  /** Seconds; 0 = not sent. */
  max_age: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  options_success_status: v.optional(v.pipe(v.number(), v.integer(), v.minValue(200), v.maxValue(299)), 200),
  debug: v.optional(v.boolean(), false),
});

export const HeadersSchema = v.object({
  cors: v.optional(CorsSchema),
  /** Added to every request passed to PHP. */
  request: headerMap(),
  /** Set on every response (worker values are appended). */
  response: headerMap(),
});

export const StaticSchema = v.object({
  dir: v.optional(v.string(), "."),
  forbid: extensionList([]),
  allow: extensionList([]),
  calculate_etag: v.optional(v.boolean(), false),
  weak: v.optional(v.boolean(), false),
  request: headerMap(),
  response: headerMap(),
});

export const SslSchema = v.object({
  address: v.optional(v.string(), ":443"),
  redirect: v.optional(v.boolean(), false),
  cert: v.optional(v.string(), ""),
  key: v.optional(v.string(), ""),
  root_ca: v.optional(v.string(), ""),
  client_auth_type: v.optional(v.string(), "no_client_certs"),
});

export const Http2Schema = v.object({
  h2c: v.optional(v.boolean(), false),
  max_concurrent_streams: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 128),
});

export const HttpSchema = v.object({
  /** "host:port", ":port", "[::1]:port" or "tcp://host:port". */
  address: v.optional(v.string(), ""),
  /** MB when a bare number (RoadRunner convention); "10MB" etc. also work. 0 = no limit (docs). */
  max_request_size: v.optional(size(1024 * 1024), 0),
  raw_body: v.optional(v.boolean(), false),
  internal_error_code: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(599)), 500),
  access_logs: v.optional(v.boolean(), false),
  /** Our extension: how the request context is encoded for PHP. JSON works with every roadrunner-http version. */
  context_codec: v.optional(v.picklist(["json", "proto"], 'Expected "json" or "proto"'), "json"),
  /** Proxies whose X-Forwarded-For / Forwarded / X-Real-Ip headers are trusted (CIDR list). */
  trusted_subnets: v.optional(
    v.array(
      v.pipe(
        v.string(),
        v.regex(CIDR_RE, 'Expected a CIDR subnet such as "10.0.0.0/8" or "::1/128"'),
      ),
    ),
  ),
  middleware: stringList(),
  uploads: v.optional(UploadsSchema, {}),
  headers: v.optional(HeadersSchema),
  static: v.optional(StaticSchema),
  pool: v.optional(PoolSchema, {}),
  ssl: v.optional(SslSchema),
  http2: v.optional(Http2Schema),
});

export type HttpConfig = v.InferOutput<typeof HttpSchema>;
export type HttpUploadsConfig = v.InferOutput<typeof UploadsSchema>;
export type HttpHeadersConfig = v.InferOutput<typeof HeadersSchema>;
export type HttpCorsConfig = v.InferOutput<typeof CorsSchema>;
export type HttpStaticConfig = v.InferOutput<typeof StaticSchema>;
export type HttpSslConfig = v.InferOutput<typeof SslSchema>;
