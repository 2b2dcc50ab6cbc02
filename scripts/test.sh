#!/usr/bin/env bash
# Runs the whole test suite under Bun and then under Deno, and prints one
# summary line. Usage: bash scripts/test.sh [filter]
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
filter="${1:-}"
logdir=$(mktemp -d)

echo "== bun test" >&2
bun test --timeout 120000 tests/ ${filter:+--test-name-pattern "$filter"} 2>&1 | tee "$logdir/bun.log"
bun_rc=${PIPESTATUS[0]}

echo "== deno test" >&2
deno test -A --quiet tests/ ${filter:+--filter "$filter"} 2>&1 | tee "$logdir/deno.log"
deno_rc=${PIPESTATUS[0]}

strip() { sed -e 's/\x1b\[[0-9;]*m//g' "$1"; }
bun_pass=$(strip "$logdir/bun.log" | sed -n 's/^ *\([0-9]\+\) pass$/\1/p' | tail -1)
bun_fail=$(strip "$logdir/bun.log" | sed -n 's/^ *\([0-9]\+\) fail$/\1/p' | tail -1)
deno_pass=$(strip "$logdir/deno.log" | sed -n 's/.*| \([0-9]\+\) passed.*/\1/p' | tail -1)
deno_fail=$(strip "$logdir/deno.log" | sed -n 's/.*| \([0-9]\+\) failed.*/\1/p' | tail -1)
deno_steps=$(strip "$logdir/deno.log" | sed -n 's/.*passed (\([0-9]\+\) steps).*/\1/p' | tail -1)
passed=$(( ${bun_pass:-0} + ${deno_steps:-${deno_pass:-0}} ))
failed=$(( ${bun_fail:-0} + ${deno_fail:-0} ))
echo "bun: ${bun_pass:-0} passed, ${bun_fail:-0} failed (exit $bun_rc); deno: ${deno_steps:-${deno_pass:-0}} passed, ${deno_fail:-0} failed (exit $deno_rc)"
if [ "$bun_rc" != 0 ] || [ "$deno_rc" != 0 ]; then
  [ "$failed" = 0 ] && failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
