// What a service served over goridge RPC looks like (shared/spec/goridge.md §4).
// A plugin exposes its methods by implementing `rpcService()` (see src/plugins/types.ts);
// the rpc plugin serves them as "<plugin name>.<Method>".

/** One incoming call, as a method handler sees it. */
export interface RpcCall {
  /** "service.Method", as sent. */
  readonly method: string;
  /** The codec flag the client used (FLAG.CODEC_JSON, FLAG.CODEC_PROTO, FLAG.CODEC_RAW). */
  readonly codec: number;
  /** The encoded argument (a view into the received frame: copy it to keep it past the call). */
  readonly body: Uint8Array;
  /** The argument decoded as JSON (undefined for an empty body, as Go leaves the zero value). Throws RpcError for bad JSON. */
  json<T = unknown>(): T;
}

/**
 * A method handler. Its result is encoded with the caller's codec: JSON → JSON.stringify
 * (a Uint8Array becomes base64, like Go's []byte); proto/raw → the handler must return bytes.
 * Throw an Error to send an error reply; its message is what the client sees.
 */
export type RpcMethod = (call: RpcCall) => unknown | Promise<unknown>;

/** Methods by name ("Workers", "Reset", ...). */
export type RpcService = Record<string, RpcMethod>;

/** An error whose message is sent verbatim to the RPC client. */
export class RpcError extends Error {
  override name = "RpcError";
}
