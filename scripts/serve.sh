#!/usr/bin/env bash
# Installs what rr needs (bun, deno, php-cli) and runs `rr serve` on the repo's .rr.yaml.
# Usage: bash scripts/serve.sh [--deno] [rr serve flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--deno" ]; then
  shift
  exec deno run -A src/main.ts serve -c .rr.yaml "$@"
fi
exec bun src/main.ts serve -c .rr.yaml "$@"
