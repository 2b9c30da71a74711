#!/usr/bin/env bash
# Builds the Debian packages edgesync (the jar and the command), edgesync-agent and
# edgesync-server (their systemd units, configuration and JVM options) with plain dpkg-deb.
# Run by `mvn -Pdist package` (dist/pom.xml); by hand:
#   dist/build-debs.sh cli/target/edgesync.jar 0.1.0-SNAPSHOT dist/target
# No debhelper and no fakeroot: the trees under src/deb are the packages as installed, this
# script only adds what is computed (the jar, the JVM options from deploy/jvm, the version,
# Installed-Size, md5sums, the changelog) and sets the modes; --root-owner-group makes every
# file root's.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 <edgesync.jar> <maven version> <output dir>" >&2
  exit 2
fi
jar=$1 mvn_version=$2 out=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src="$here/src/deb"
jvm="$here/../deploy/jvm"

if ! command -v dpkg-deb >/dev/null; then
  echo "build-debs: dpkg-deb not found; it is in the Debian package dpkg (apt-get install dpkg)" >&2
  exit 1
fi
if [[ ! -f $jar ]]; then
  echo "build-debs: no jar at $jar; build the cli module first (mvn -Pdist package does)" >&2
  exit 1
fi

# 0.1.0-SNAPSHOT -> 0.1.0~SNAPSHOT: '~' sorts before everything, so the release 0.1.0 is newer.
version=${mvn_version//-/\~}
if ! dpkg --validate-version "$version" 2>/dev/null; then
  echo "build-debs: '$mvn_version' gives '$version', not a valid Debian version" >&2
  exit 1
fi
# The changelog's date: SOURCE_DATE_EPOCH when set (reproducible builds), else now.
date_rfc2822=$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")

# Copies a package's tree to the staging dir and sets every mode: dirs and files 0755/0644,
# programs and maintainer scripts 0755 (git keeps only the executable bit, umask decides the rest).
stage() {
  local pkg=$1 root=$2
  rm -rf "$root"
  mkdir -p "$root"
  cp -R "$src/$pkg/." "$root/"
  find "$root" -type d -exec chmod 0755 {} +
  find "$root" -type f -exec chmod 0644 {} +
  for f in "$root"/usr/bin/* "$root"/DEBIAN/{preinst,postinst,prerm,postrm}; do
    [[ -e $f ]] && chmod 0755 "$f"
  done
  install -d -m 0755 "$root/usr/share/doc/$pkg"
  install -m 0644 "$src/copyright" "$root/usr/share/doc/$pkg/copyright"
  changelog "$pkg" | gzip -9n >"$root/usr/share/doc/$pkg/changelog.gz"
  chmod 0644 "$root/usr/share/doc/$pkg/changelog.gz"
}

changelog() {
  cat <<LOG
$1 ($version) unstable; urgency=medium

  * Built from the edgesync source tree ($mvn_version) by mvn -Pdist package.

 -- edgesync developers <maintainers@edgesync.invalid>  $date_rfc2822
LOG
}

# Fills in the version and Installed-Size (KiB, as dpkg-gencontrol counts them: files
# rounded up to 1 KiB each, dirs 1 KiB), writes md5sums, and builds the .deb.
finish() {
  local pkg=$1 root=$2 size
  size=$(cd "$root" && find . -path ./DEBIAN -prune -o \( -type f -printf '%s\n' -o -type d -printf '1024\n' \) |
    awk '{ kib += int(($1 + 1023) / 1024) } END { print kib }')
  sed -i -e "s/@VERSION@/$version/g" -e "s/@INSTALLED_SIZE@/$size/" "$root/DEBIAN/control"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
  chmod 0644 "$root/DEBIAN/md5sums"
  # gzip: the jar is already compressed; xz (the default) spends a minute to gain nothing.
  dpkg-deb --root-owner-group -Zgzip --build "$root" "$out/${pkg}_${version}_all.deb" >/dev/null
  echo "build-debs: $out/${pkg}_${version}_all.deb"
}

staging="$out/deb-staging"
mkdir -p "$out"

root="$staging/edgesync"
stage edgesync "$root"
install -d -m 0755 "$root/usr/share/edgesync" "$root/usr/share/doc/edgesync"
install -m 0644 "$jar" "$root/usr/share/edgesync/edgesync.jar"
for doc in "$here/../README.md" "$here/../docs/configuration.md" "$here/../docs/operations.md"; do
  install -m 0644 "$doc" "$root/usr/share/doc/edgesync/"
done
finish edgesync "$root"

for role in agent server; do
  root="$staging/edgesync-$role"
  stage "edgesync-$role" "$root"
  install -m 0644 "$jvm/$role.options" "$root/etc/edgesync/$role.jvm.options"
  finish "edgesync-$role" "$root"
done
