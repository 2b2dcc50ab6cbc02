// Cookie header → name/value pairs the way RoadRunner passes them to PHP (spec http.md §2.1 #6):
// values are query-unescaped ("%XX", "+" → space); a value that fails to unescape is dropped;
// duplicate names: the last one wins.

const COOKIE_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseCookies(header: string | null): Map<string, string> | null {
  if (!header) return null;
  let out: Map<string, string> | null = null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!COOKIE_NAME_RE.test(name)) continue;
    let raw = part.slice(eq + 1).trim();
    if (raw.length >= 2 && raw[0] === '"' && raw[raw.length - 1] === '"') raw = raw.slice(1, -1);
    const value = queryUnescape(raw);
    if (value === null) continue;
    (out ??= new Map()).set(name, value);
  }
  return out;
}

/** Go's url.QueryUnescape: "+" → space, "%XX" decoded; null when malformed. */
export function queryUnescape(text: string): string | null {
  if (text.indexOf("%") < 0 && text.indexOf("+") < 0) return text;
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return null;
  }
}
