// The `headers` middleware (spec http.md §4.3): headers.request are added to what PHP receives,
// headers.response are set on every response (values the worker sends are appended), and CORS.
import type { HttpCorsConfig, HttpHeadersConfig } from "../../config/sections/http.ts";
import type { Middleware } from "./middleware.ts";

const list = (text: string): string[] => text.split(",").map((s) => s.trim()).filter((s) => s !== "");

export function headersMiddleware(config: HttpHeadersConfig): Middleware {
  const requestHeaders = Object.entries(config.request).map(([k, v]) => [k, String(v)] as [string, string]);
  const responseHeaders = Object.entries(config.response).map(([k, v]) => [k, String(v)] as [string, string]);
  const cors = config.cors ? corsPolicy(config.cors) : null;
  return (next) => async (request, state) => {
    if (cors !== null && request.method === "OPTIONS" && request.headers.has("origin") &&
      request.headers.has("access-control-request-method")) {
      return cors.preflight(request);
    }
    if (requestHeaders.length > 0) {
      state.extraHeaders = state.extraHeaders === null ? [...requestHeaders] : [...state.extraHeaders, ...requestHeaders];
    }
    let response = await next(request, state);
    if (responseHeaders.length === 0 && cors === null) return response;
    response = mutable(response);
    for (const [name, value] of responseHeaders) {
      const fromWorker = response.headers.get(name);
      response.headers.set(name, value);
      if (fromWorker !== null) response.headers.append(name, fromWorker);
    }
    cors?.actual(request, response.headers);
    return response;
  };
}

// Responses built by the runtime (e.g. Response.redirect) may have immutable headers.
function mutable(response: Response): Response {
  try {
    response.headers.set("x-rr-probe", "1");
    response.headers.delete("x-rr-probe");
    return response;
  } catch {
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }
}

interface CorsPolicy {
  preflight(request: Request): Response;
  actual(request: Request, headers: Headers): void;
}

/** CORS the way RoadRunner's headers plugin configures rs/cors. */
export function corsPolicy(config: HttpCorsConfig): CorsPolicy {
  const origins = list(config.allowed_origin).map((o) => o.toLowerCase());
  const originRegex = config.allowed_origin_regex !== "" ? new RegExp(config.allowed_origin_regex) : null;
  const anyOrigin = originRegex === null && (origins.length === 0 || origins.includes("*"));
  const wildcards = origins.filter((o) => o.includes("*") && o !== "*").map((o) => {
    const star = o.indexOf("*");
    return [o.slice(0, star), o.slice(star + 1)] as const;
  });
  const methods = config.allowed_methods === "" ? ["GET", "POST", "HEAD"] : list(config.allowed_methods).map((m) => m.toUpperCase());
  const allowedHeaders = config.allowed_headers === ""
    ? ["origin", "accept", "content-type", "x-requested-with"]
    : list(config.allowed_headers).map((h) => h.toLowerCase());
  const anyHeader = allowedHeaders.includes("*");
  const exposed = list(config.exposed_headers).join(", ");

  const originAllowed = (origin: string): boolean => {
    if (originRegex !== null) return originRegex.test(origin);
    if (anyOrigin) return true;
    const lower = origin.toLowerCase();
    return origins.includes(lower) || wildcards.some(([pre, post]) => lower.startsWith(pre) && lower.endsWith(post));
  };
  const allowOriginValue = (origin: string) => (anyOrigin ? "*" : origin);

  return {
    preflight(request) {
      const headers = new Headers();
      headers.append("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      const origin = request.headers.get("origin") ?? "";
      const method = (request.headers.get("access-control-request-method") ?? "").toUpperCase();
      const asked = list(request.headers.get("access-control-request-headers") ?? "").map((h) => h.toLowerCase());
      const ok = originAllowed(origin) && (method === "OPTIONS" || methods.includes(method)) &&
        (anyHeader || asked.every((h) => allowedHeaders.includes(h)));
      if (ok) {
        headers.set("Access-Control-Allow-Origin", allowOriginValue(origin));
        headers.set("Access-Control-Allow-Methods", method);
        if (asked.length > 0) headers.set("Access-Control-Allow-Headers", asked.join(", "));
        if (config.allow_credentials) headers.set("Access-Control-Allow-Credentials", "true");
        if (config.max_age > 0) headers.set("Access-Control-Max-Age", String(config.max_age));
      }
      return new Response(null, { status: config.options_success_status, headers });
    },
    actual(request, headers) {
      const origin = request.headers.get("origin");
      headers.append("Vary", "Origin");
      if (origin === null || !originAllowed(origin)) return;
      if (!methods.includes(request.method) && request.method !== "OPTIONS") return;
      headers.set("Access-Control-Allow-Origin", allowOriginValue(origin));
      if (exposed !== "") headers.set("Access-Control-Expose-Headers", exposed);
      if (config.allow_credentials) headers.set("Access-Control-Allow-Credentials", "true");
    },
  };
}
