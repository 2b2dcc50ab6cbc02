#!/usr/bin/env bash
# Installs what rr needs to run from source and to run its tests, on a fresh
# Debian machine that has only Node/npm: bun and deno from the npm registry,
# php-cli (and, with --test, wrk and rabbitmq-server) from Debian.
set -euo pipefail
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

need_apt=()
command -v php >/dev/null 2>&1 || need_apt+=(php-cli)
if [ "$want_test" = 1 ]; then
  command -v rabbitmq-server >/dev/null 2>&1 || need_apt+=(rabbitmq-server)
  # the installer tests download with both curl and wget
  command -v curl >/dev/null 2>&1 || need_apt+=(curl)
  command -v wget >/dev/null 2>&1 || need_apt+=(wget)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

need_npm=()
command -v bun >/dev/null 2>&1 || need_npm+=(bun)
command -v deno >/dev/null 2>&1 || need_npm+=(deno)
if [ "${#need_npm[@]}" -gt 0 ]; then
  echo "setup: installing ${need_npm[*]} with npm" >&2
  npm install -g --allow-scripts=bun,deno "${need_npm[@]}" >/dev/null 2>&1 || npm install -g "${need_npm[@]}" >/dev/null
fi
bun --version >/dev/null
deno --version >/dev/null

# Packages into node_modules: `bun test` does not auto-install them (`bun run` does), and
# Deno (nodeModulesDir: auto) lays node_modules out so that Bun resolves from it as well.
if ! (cd "$(dirname "$0")/.." && deno install >/dev/null 2>&1); then
  echo "setup: deno install failed; tests that import npm packages directly will fail" >&2
fi

# The jobs tests need RabbitMQ: start the broker once (it stays up for later runs; the tests
# start it themselves when it is not running, and then stop it again).
if [ "$want_test" = 1 ] && command -v rabbitmq-server >/dev/null 2>&1; then
  if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    echo "setup: starting rabbitmq-server" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO rabbitmq-server -detached >/dev/null 2>&1 || true
    $SUDO timeout 90 rabbitmqctl -q await_startup >/dev/null 2>&1 \
      || echo "setup: rabbitmq-server did not start; the amqp jobs tests will try again" >&2
  fi
fi
