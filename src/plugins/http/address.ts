// http.address / ssl.address → hostname and port for the runtime's HTTP server.
import { ConfigError } from "../../errors.ts";

export interface ListenAddress {
  hostname: string;
  port: number;
}

export function parseListenAddress(address: string, key: string): ListenAddress {
  let text = address.trim();
  if (text.startsWith("tcp://")) text = text.slice(6);
  if (text.startsWith("unix://")) {
    throw new ConfigError(`${key} "${address}": unix sockets are not supported for HTTP by rr; use "host:port" such as "127.0.0.1:8080"`);
  }
  const colon = text.lastIndexOf(":");
  if (colon < 0) throw new ConfigError(`${key} "${address}" has no port: write it as "host:port", e.g. "0.0.0.0:8080" or ":8080"`);
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  const port = Number(portText);
  if (portText === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${key} "${address}" has an invalid port "${portText}": use a number from 0 to 65535`);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}
