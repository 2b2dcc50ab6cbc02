#!/usr/bin/env bash
# HTTP benchmark: rr (2 PHP workers, Bun and Deno) vs nginx + php-fpm (pm = static, 2 children)
# on the same hello-world and framework-like PHP apps, measured with wrk in one run.
# Installs wrk, nginx and php-fpm with apt-get when missing (bench-only; setup.sh does not).
# Writes the "## HTTP" section of docs/BENCHMARKS.md.
#   bash scripts/bench/http.sh            # DURATION=10s CONNECTIONS=64 by default
#   DURATION=5s ROUNDS=1 RUNTIMES="bun" bash scripts/bench/http.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-64}
RUNTIMES=${RUNTIMES:-"bun deno"}
# Worker relays to compare: pipes (RoadRunner's default) and unix sockets (faster in rr).
RELAYS=${RELAYS:-"pipes unix"}
ROUNDS=${ROUNDS:-3}

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
FPM=$(command -v php-fpm8.2 || command -v php-fpm || ls /usr/sbin/php-fpm* 2>/dev/null | head -1 || true)
[ -n "$FPM" ] || need+=(php-fpm)
if [ "${#need[@]}" -gt 0 ]; then
  echo "bench: installing ${need[*]} with apt-get" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  FPM=$(command -v php-fpm8.2 || command -v php-fpm || ls /usr/sbin/php-fpm* | head -1)
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
chmod 755 "$work" # nginx workers (nobody) must reach the php-fpm socket
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { bun -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() {
  for _ in $(seq 1 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "bench: $1 did not answer; logs:" >&2
  tail -n 20 "$work"/*.log >&2 || true
  return 1
}

# ---- nginx + php-fpm ----
fpm_sock="$work/fpm.sock"
cat > "$work/php-fpm.conf" <<CONF
[global]
error_log = $work/fpm.log
daemonize = no
[bench]
listen = $fpm_sock
listen.mode = 0666
pm = static
pm.max_children = 2
catch_workers_output = yes
CONF
FPM_USER_FLAG=(); [ "$(id -u)" = 0 ] && FPM_USER_FLAG=(-R)
"$FPM" "${FPM_USER_FLAG[@]}" -y "$work/php-fpm.conf" -F >/dev/null 2>&1 &
fpm_pid=$!
pids+=($fpm_pid)

nginx_port=$(free_port)
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/body;
  fastcgi_temp_path $work/fastcgi;
  proxy_temp_path $work/proxy;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /hello { fastcgi_pass unix:$fpm_sock; include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME $ROOT/scripts/bench/http/fpm-hello.php; }
    location = /framework { fastcgi_pass unix:$fpm_sock; include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME $ROOT/scripts/bench/http/fpm-framework.php; }
  }
}
CONF
"$NGINX" -c "$work/nginx.conf" -p "$work" >/dev/null 2>&1 &
nginx_pid=$!
pids+=($nginx_pid)
for _ in $(seq 1 50); do [ -S "$fpm_sock" ] && break; sleep 0.1; done

# ---- rr ----
start_rr() { # runtime app port relay
  local runtime=$1 app=$2 port=$3 relay=$4 cfg="$work/rr-$1-$2-$4.yaml"
  local relay_address=pipes
  [ "$relay" = unix ] && relay_address="unix://$work/rr-$runtime-$app.sock"
  cat > "$cfg" <<CONF
version: "3"
server:
  command: "php $ROOT/tests/fixtures/php/http/$app.php"
  relay: $relay_address
http:
  address: 127.0.0.1:$port
  pool:
    num_workers: 2
logs:
  level: warn
CONF
  if [ "$runtime" = deno ]; then
    deno run -A --quiet "$ROOT/src/main.ts" serve -c "$cfg" >"$work/rr-$runtime-$app-$relay.log" 2>&1 &
  else
    bun "$ROOT/src/main.ts" serve -c "$cfg" >"$work/rr-$runtime-$app-$relay.log" 2>&1 &
  fi
  echo $!
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
results="$work/results.tsv"
rounds="$work/rounds.tsv"
# CPU time (clock ticks, user + system) used by process trees: the servers' own cost per
# request, which stays meaningful when other load on the machine steals CPU from everyone.
tree_pids() { local p; for p in "$@"; do echo "$p"; tree_pids $(pgrep -P "$p" || true); done; }
tree_ticks() {
  local total=0 p stat
  for p in $(tree_pids "$@"); do
    stat=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
    total=$((total + $(awk '{print $12 + $13}' <<<"$stat")))
  done
  echo "$total"
}
measure() { # app server url root-pids...
  local app=$1 server=$2 url=$3; shift 3
  wrk -t2 -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
  local out before after
  before=$(tree_ticks "$@")
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$url")
  after=$(tree_ticks "$@")
  local rps p50 p99 requests cpu errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  cpu=$(awk -v t=$((after - before)) -v n="${requests:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { v = 0; if (n > 0) v = t * 1e6 / hz / n; printf "%.1f", v }')
  errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" || true)
  [ -n "$errors" ] && echo "bench: $server $app: $errors" >&2
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$app" "$server" "$rps" "$p50" "$p99" "$cpu" | tee -a "$rounds" >&2
}

# Every server runs for the whole benchmark (idle ones cost nothing); the rounds interleave
# the servers so that load from elsewhere on the machine hits them alike. The median round counts.
declare -A urls roots
for app in hello framework; do
  roots["$app|nginx+php-fpm"]="$fpm_pid $nginx_pid"
  urls["$app|nginx+php-fpm"]="http://127.0.0.1:$nginx_port/$app"
  wait_http "${urls["$app|nginx+php-fpm"]}"
  for runtime in $RUNTIMES; do
    for relay in $RELAYS; do
      port=$(free_port)
      pid=$(start_rr "$runtime" "$app" "$port" "$relay")
      pids+=("$pid")
      roots["$app|rr ($runtime $relay)"]=$pid
      urls["$app|rr ($runtime $relay)"]="http://127.0.0.1:$port/"
    done
  done
done
for app in hello framework; do
  for runtime in $RUNTIMES; do for relay in $RELAYS; do wait_http "${urls["$app|rr ($runtime $relay)"]}"; done; done
done

for round in $(seq 1 "$ROUNDS"); do
  echo "bench: round $round/$ROUNDS" >&2
  for app in hello framework; do
    # shellcheck disable=SC2086
    measure "$app" "nginx+php-fpm" "${urls["$app|nginx+php-fpm"]}" ${roots["$app|nginx+php-fpm"]}
    for runtime in $RUNTIMES; do
      for relay in $RELAYS; do measure "$app" "rr ($runtime $relay)" "${urls["$app|rr ($runtime $relay)"]}" ${roots["$app|rr ($runtime $relay)"]}; done
    done
  done
done
# Median round per (app, server), by req/s.
for app in hello framework; do
  for server in "nginx+php-fpm" $(for r in $RUNTIMES; do for l in $RELAYS; do echo "rr_(${r}_$l)"; done; done); do
    server=${server//_/ }
    awk -F'\t' -v a="$app" -v s="$server" '$1 == a && $2 == s' "$rounds" | sort -t$'\t' -k3,3 -g | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)' >> "$results"
  done
done

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
meta="$(date -u +%Y-%m-%d), $(nproc) cores, load average at the start $load_start and at the end $load_end, wrk -t2 -c$CONNECTIONS -d$DURATION, median of $ROUNDS interleaved rounds, bun $(bun --version), deno $(deno --version | head -1 | cut -d' ' -f2), $(php -r 'echo "PHP ", PHP_VERSION;')."
bun "$ROOT/scripts/bench/http/report.ts" "$results" "$meta"
