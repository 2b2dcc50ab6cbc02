// The http_metrics middleware: feeds the metrics plugin's rr_http_request_total{status},
// rr_http_request_duration_seconds{status} and rr_http_no_free_workers_total.
import type { Handler, Middleware } from "./middleware.ts";

/** What the metrics plugin offers the http plugin (src/plugins/metrics/plugin.ts). */
export interface HttpMetricsSink {
  observeHttpRequest(status: number, seconds: number): void;
  countNoFreeWorkers(): void;
}

export function metricsMiddleware(sink: HttpMetricsSink): Middleware {
  return (next: Handler): Handler => async (request, state) => {
    const started = performance.now();
    const response = await next(request, state);
    // Streamed bodies are timed to the first frame (the headers), as RoadRunner's middleware does.
    sink.observeHttpRequest(response.status, (performance.now() - started) / 1000);
    if (response.headers.get("No-Workers") === "true") sink.countNoFreeWorkers();
    return response;
  };
}
