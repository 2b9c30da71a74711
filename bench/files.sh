#!/bin/bash
# The files bench (docs/benchmarks.md, "Files") with its anchors: installs xdelta3, zstd and rsync
# with apt when they are missing (as root, or through sudo), then runs the bench. A tool that still
# cannot be found is reported in the output and its column left empty; the bench never fails for it.
# Usage: bench/files.sh [BENCH_JAR] [resume|fair|link] [bench options...]
#   (default jar: bench/target/edgesync-bench.jar)
#   no word: the delta bench (bench scenario 'files');
#   resume: files-resume (a download through FaultProxy cut every 5 s, and uncut);
#   fair: files-fair (a priority-1 stream's latency beside a file on a 1 Mbit/s link);
#   link: both. Quick sizes by default; the full figures of docs/benchmarks.md:
#   bench/files.sh link --resume-bytes=256MiB --fair-bytes=256MiB --fair-seconds=90
# Build the jar first: mvn -o -q -B package -DskipTests -pl bench -am
set -euo pipefail
jar=bench/target/edgesync-bench.jar
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  jar=$1
  shift
fi
link=()
case "${1:-}" in
  resume) link=(files-resume); shift ;;
  fair) link=(files-fair); shift ;;
  link) link=(files-resume files-fair); shift ;;
esac
base=/dev/shm; [ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
dir="$base/edgesync-files-bench"
if [ ${#link[@]} -gt 0 ]; then
  # A real server and agent in one JVM; the file streams through disk (--dir), not the heap.
  # Each run needs about 5x the file size in --dir (source, both chunk stores, installed copy).
  rm -rf "$dir"
  trap 'rm -rf "$dir"' EXIT
  for scenario in "${link[@]}"; do
    echo "files.sh: $scenario; uptime before: $(uptime)" >&2
    java -Xmx256m -jar "$jar" "$scenario" --dir="$dir" "$@"
    echo "files.sh: $scenario; uptime after: $(uptime)" >&2
  done
  exit 0
fi
missing=()
for tool in xdelta3 zstd rsync; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "files.sh: installing ${missing[*]} with apt" >&2
  apt=(apt-get)
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && apt=(sudo apt-get)
  { "${apt[@]}" install -y "${missing[@]}" || { "${apt[@]}" update && "${apt[@]}" install -y "${missing[@]}"; }; } \
    >&2 || echo "files.sh: could not install ${missing[*]}; the bench reports ours alone for them" >&2
fi
rm -rf "$dir"
trap 'rm -rf "$dir"' EXIT
# About 64 MiB base + 68 MiB new version + one 4 MiB pack and its 8 MiB dictionary at a time.
java -Xmx768m -jar "$jar" files --dir="$dir" "$@"
