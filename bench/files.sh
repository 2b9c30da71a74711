#!/bin/bash
# The files bench (docs/benchmarks.md, "Files") with its anchors: installs xdelta3, zstd and rsync
# with apt when they are missing (as root, or through sudo), then runs the bench. A tool that still
# cannot be found is reported in the output and its column left empty; the bench never fails for it.
# Usage: bench/files.sh [BENCH_JAR] [bench options...]   (default jar: bench/target/edgesync-bench.jar)
# Build the jar first: mvn -o -q -B package -DskipTests -pl bench -am
set -euo pipefail
jar=bench/target/edgesync-bench.jar
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  jar=$1
  shift
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
base=/dev/shm; [ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
dir="$base/edgesync-files-bench"
rm -rf "$dir"
trap 'rm -rf "$dir"' EXIT
# About 64 MiB base + 68 MiB new version + one 4 MiB pack and its 8 MiB dictionary at a time.
java -Xmx768m -jar "$jar" files --dir="$dir" "$@"
