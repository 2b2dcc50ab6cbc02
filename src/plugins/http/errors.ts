// Pool and request failures → the HTTP answer (spec http.md §3.6): internal_error_code, with the
// error text in the body only when http.pool.debug is true.
import { NoFreeWorkersError, QueueFullError } from "../../errors.ts";

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

export function workerErrorResponse(error: unknown, status: number, debug: boolean): Response {
  const headers: Record<string, string> = {};
  if (error instanceof NoFreeWorkersError || error instanceof QueueFullError) headers["No-Workers"] = "true";
  if (!debug) return new Response(null, { status, headers });
  headers["Content-Type"] = "text/plain; charset=utf-8";
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new Response(escapeHtml(message), { status, headers });
}
