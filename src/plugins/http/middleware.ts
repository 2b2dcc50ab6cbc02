// The shape of http middlewares: a handler wrapped by the `http.middleware` list.

/** Per-request state middlewares may change before the worker handler runs. */
export interface RequestState {
  /** The client's IP (the TCP peer, or the forwarded client from a trusted proxy). */
  remoteAddr: string;
  /** Headers added for PHP (headers.request); null when none. */
  extraHeaders: Array<[string, string]> | null;
}

export type Handler = (request: Request, state: RequestState) => Response | Promise<Response>;
export type Middleware = (next: Handler) => Handler;

/** Byte arrays from our codecs are plain ArrayBuffer-backed; TypeScript's BodyInit wants that said. */
export function asBody(bytes: Uint8Array | null): BodyInit | null {
  return bytes as Uint8Array<ArrayBuffer> | null;
}
