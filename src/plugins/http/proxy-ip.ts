// Real client IP behind trusted proxies (spec http.md §4.8): when the TCP peer is inside a
// trusted subnet, the client address is taken from Forwarded, X-Forwarded-For, X-Real-Ip,
// True-Client-Ip or Cf-Connecting-Ip (first non-empty, in that order). Others are ignored.
import { isIP } from "node:net";
import type { Middleware } from "./middleware.ts";

/** Used when proxy_ip_parser is enabled without trusted_subnets (the docs' default list). */
export const DEFAULT_TRUSTED_SUBNETS = [
  "10.0.0.0/8",
  "127.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "::1/128",
  "fc00::/7",
  "fe80::/10",
];

interface Subnet {
  bytes: Uint8Array;
  bits: number;
}

/** IPv4 → 4 bytes, IPv6 → 16 bytes (an IPv4-mapped IPv6 address → its 4 IPv4 bytes); null if not an IP. */
export function parseIp(text: string): Uint8Array | null {
  let ip = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const zone = ip.indexOf("%");
  if (zone >= 0) ip = ip.slice(0, zone);
  const kind = isIP(ip);
  if (kind === 4) return new Uint8Array(ip.split(".").map(Number));
  if (kind !== 6) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return parseIp(mapped[1]);
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, null];
  const words = (s: string) => (s === "" ? [] : s.split(":"));
  let headWords = words(head);
  let tailWords = tail === null ? [] : words(tail);
  // An embedded IPv4 tail ("::1.2.3.4") counts as two words.
  const expand = (list: string[]) => {
    const last = list[list.length - 1];
    if (last !== undefined && last.includes(".")) {
      const b = last.split(".").map(Number);
      list.splice(list.length - 1, 1, ((b[0] << 8) | b[1]).toString(16), ((b[2] << 8) | b[3]).toString(16));
    }
    return list;
  };
  if (tail === null) headWords = expand(headWords);
  else tailWords = expand(tailWords);
  const fill = 8 - headWords.length - tailWords.length;
  const all = [...headWords, ...Array<string>(tail === null ? 0 : fill).fill("0"), ...tailWords];
  const out = new Uint8Array(16);
  all.forEach((word, i) => {
    const n = parseInt(word, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

export function parseSubnet(cidr: string): Subnet | null {
  const slash = cidr.indexOf("/");
  if (slash < 0) return null;
  const bytes = parseIp(cidr.slice(0, slash));
  const bits = Number(cidr.slice(slash + 1));
  if (bytes === null || !Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8) return null;
  return { bytes, bits };
}

export function inSubnets(ip: Uint8Array, subnets: readonly Subnet[]): boolean {
  for (const net of subnets) {
    if (net.bytes.length !== ip.length) continue;
    let bits = net.bits;
    let i = 0;
    for (; bits >= 8; i++, bits -= 8) if (ip[i] !== net.bytes[i]) break;
    if (bits >= 8) continue;
    if (bits === 0 || ((ip[i] ^ net.bytes[i]) & (0xff << (8 - bits)) & 0xff) === 0) return true;
  }
  return false;
}

/** The client address from proxy headers, or null when none is set. */
export function forwardedClient(headers: Headers): string | null {
  const forwarded = headers.get("forwarded");
  if (forwarded) {
    const match = /(?:^|[;,\s])for=("?)([^";,]+)\1/i.exec(forwarded);
    if (match && match[2].trim() !== "") return stripPort(match[2].trim());
  }
  const xff = headers.get("x-forwarded-for");
  if (xff) {
    const first = xff.split(",")[0].trim();
    if (first !== "") return first;
  }
  for (const name of ["x-real-ip", "true-client-ip", "cf-connecting-ip"]) {
    const value = headers.get(name);
    if (value) return value.trim();
  }
  return null;
}

// Forwarded: for="[2001:db8::1]:4711" or for=192.0.2.60:1234 carry ports.
function stripPort(value: string): string {
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    return end > 0 ? value.slice(1, end) : value;
  }
  const colon = value.indexOf(":");
  return colon > 0 && value.indexOf(":", colon + 1) < 0 ? value.slice(0, colon) : value;
}

export function proxyIpMiddleware(cidrs: readonly string[]): Middleware {
  const subnets = cidrs.map((cidr) => parseSubnet(cidr)).filter((s): s is Subnet => s !== null);
  return (next) => (request, state) => {
    const peer = parseIp(state.remoteAddr);
    if (peer !== null && inSubnets(peer, subnets)) {
      const client = forwardedClient(request.headers);
      if (client !== null) state.remoteAddr = client;
    }
    return next(request, state);
  };
}
