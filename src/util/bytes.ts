// Byte helpers shared across the codebase (no runtime APIs).

/**
 * The parts joined into one Uint8Array. A single part is returned as is (no
 * copy); `total`, when the caller already counted it, saves a pass.
 */
export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  if (total === undefined) {
    total = 0;
    for (let i = 0; i < parts.length; i++) total += parts[i].length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    out.set(parts[i], at);
    at += parts[i].length;
  }
  return out;
}
