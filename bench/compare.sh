#!/bin/bash
# Alternating runs of two builds of the bench in one sitting (docs/benchmarks.md, "Figures").
# Usage: bench/compare.sh BEFORE_JAR AFTER_JAR ROUNDS SCENARIO [java options...]
# Each round runs SCENARIO with the before jar, then the after jar; data on /dev/shm when present.
# Output of each run: ./compare-SCENARIO-{before,after}-ROUND.txt
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 BEFORE_JAR AFTER_JAR ROUNDS SCENARIO [java options...]" >&2
  exit 2
fi
before=$1 after=$2 rounds=$3 scenario=$4
shift 4
base=/dev/shm; [ -d "$base" ] || base=${TMPDIR:-/tmp}
dir="$base/edgesync-compare"
for i in $(seq 1 "$rounds"); do
  for build in before after; do
    jar=$before; [ "$build" = after ] && jar=$after
    rm -rf "$dir"
    out="compare-$scenario-$build-$i.txt"
    java "$@" -jar "$jar" "$scenario" --dir="$dir" > "$out" 2>&1
    echo "$scenario round $i $build: $out"
  done
done
rm -rf "$dir"
