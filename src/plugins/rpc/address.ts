// rpc.listen addresses: "tcp://host:port" or "unix://path" (shared/spec/plugins.md §7.2).
import { resolve } from "node:path";
import type { SocketAddress } from "../../platform/types.ts";

export const DEFAULT_RPC_LISTEN = "tcp://127.0.0.1:6001";

/**
 * Parse an rpc.listen value. `forConnect` maps an empty or wildcard host to 127.0.0.1,
 * so a client reaches a server that listens on all interfaces. Throws a plain Error
 * whose message says what is wrong; callers add where the value came from.
 */
export function parseRpcAddress(listen: string, forConnect = false): SocketAddress {
  const match = /^([a-z]+):\/\/(.*)$/.exec(listen.trim());
  if (!match) {
    throw new Error(`"${listen}" is not an RPC address: use tcp://127.0.0.1:6001 or unix:///path/to/rr.sock`);
  }
  const [, scheme, rest] = match;
  if (scheme === "unix") {
    if (rest === "") throw new Error(`"${listen}" has no socket path: use unix:///path/to/rr.sock`);
    return { transport: "unix", path: resolve(rest) };
  }
  if (scheme !== "tcp") {
    throw new Error(`"${listen}" uses the unsupported scheme ${scheme}://: use tcp:// or unix://`);
  }
  const colon = rest.lastIndexOf(":");
  const port = Number(rest.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535 || rest.slice(colon + 1) === "") {
    throw new Error(`"${listen}" has no valid port: use tcp://127.0.0.1:6001`);
  }
  let hostname = rest.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  if (hostname === "" || hostname === "0.0.0.0" || hostname === "::") {
    hostname = forConnect ? "127.0.0.1" : hostname === "" ? "0.0.0.0" : hostname;
  }
  return { transport: "tcp", hostname, port };
}

/** Render an address back as tcp://host:port or unix://path. */
export function formatRpcAddress(address: SocketAddress): string {
  if (address.transport === "unix") return `unix://${address.path}`;
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return `tcp://${host}:${address.port}`;
}
