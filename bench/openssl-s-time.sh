#!/bin/bash
# The anchor for the storm bench (docs/benchmarks.md, "Reconnect storm"): openssl s_time's full
# (-new) and resumed (-reuse) mutual-TLS handshakes per second against the same server the storm
# runs against (a SyncServer with server.tls, started by `edgesync-bench storm --serve-seconds`).
# Usage: bench/openssl-s-time.sh [BENCH_JAR] [SECONDS]   (defaults: bench/target/edgesync-bench.jar 10)
# Each s_time run fetches /api/v1/health (404-free, tiny) so that it reads the server's TLS 1.3
# session ticket, which -reuse needs; both runs do the same, so they compare.
set -euo pipefail
jar=${1:-bench/target/edgesync-bench.jar}
secs=${2:-10}
base=/dev/shm; [ -d "$base" ] || base=${TMPDIR:-/tmp}
dir="$base/edgesync-s-time"
rm -rf "$dir"
mkdir -p "$dir"
java -jar "$jar" storm --devices=1 --serve-seconds=$((2 * secs + 60)) --dir="$dir" --keep \
  > "$dir/bench.log" 2>&1 &
bench=$!
trap 'kill "$bench" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q "serving on" "$dir/bench.log" && break
  sleep 1
done
grep -q "serving on" "$dir/bench.log" || { cat "$dir/bench.log" >&2; exit 1; }
port=$(cat "$dir/storm/port")
pem="$dir/storm/pem"
for mode in -new -reuse; do
  echo "== openssl s_time $mode (127.0.0.1:$port, mutual TLS, $secs s)"
  openssl s_time -connect "127.0.0.1:$port" -cert "$pem/dev.pem" -key "$pem/dev.key" \
    -CAfile "$pem/ca.pem" -www /api/v1/health $mode -time "$secs" 2>&1 \
    | grep -E "connections|reuse|new" || true
done
