// "host:port" addresses of the status and metrics HTTP endpoints.

/** Parse "127.0.0.1:2112", ":2112" (all interfaces) or "[::1]:2112". `key` names the config key in errors. */
export function parseHostPort(address: string, key: string): { hostname: string; port: number } {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || address.slice(colon + 1) === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${key}: "${address}" is not host:port (e.g. 127.0.0.1:2112)`);
  }
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}
