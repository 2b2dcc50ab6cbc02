// The top-level `version` key: required, a string, "3" (shared/spec/plugins.md §7.1).
// Checked before anything else, since a config for another version has other keys.
import { ConfigError } from "../../errors.ts";

export const SUPPORTED_VERSION = "3";

/** Throws a ConfigError unless `version` is the string "3". Returns a warning text for "2.7". */
export function checkVersion(file: string, version: unknown): void {
  const hint = `add version: "3" at the top of ${file}`;
  if (version === undefined || version === null) {
    throw new ConfigError(`Cannot load config ${file}: version: the key is missing; ${hint}`);
  }
  if (typeof version !== "string") {
    throw new ConfigError(
      `Cannot load config ${file}: version: expected a string ("3") but found the ${typeof version} ${String(version)}; write version: "3" with quotes`,
    );
  }
  if (version !== SUPPORTED_VERSION) {
    const upgrade = version.startsWith("2")
      ? "; this is a RoadRunner 2.x config: see https://docs.roadrunner.dev/docs/general/compatibility to upgrade it"
      : "";
    throw new ConfigError(`Cannot load config ${file}: version: expected "3" but found "${version}"${upgrade}`);
  }
}
