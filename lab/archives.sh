#!/usr/bin/env bash
# Build the lab's Kafka and Flume archives from Maven Central's jars, once.
# The lab has no Apache mirror; a real site installs the Apache binary
# release by URL and checksum. Each archive is laid out like the release
# (one top directory, jars in libs/ for Kafka and lib/ for Flume), so the
# roles install it like any other archive (kafka_archive_src,
# flume_archive_src).
#
#   lab/archives.sh [OUTDIR]      OUTDIR defaults to .cache/archives
#
# Versions come from the poms in lab/archives/; an archive is rebuilt only
# when its pom changed (its hash is part of a stamp file).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../.cache/archives}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { printf 'lab/archives: %s\n' "$*" >&2; }

command -v mvn >/dev/null 2>&1 || {
  say "Maven is missing: apt-get install maven default-jdk-headless"; exit 1; }

# build NAME POM TOPDIR LIBDIR
build() {
  local name=$1 pom=$2 top=$3 libdir=$4
  local archive="$out/$top.tgz" stamp="$out/$top.sha256"
  local digest
  digest=$(cat "$pom" "$0" | sha256sum | cut -c1-16)
  if [ -s "$archive" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ]; then
    say "$name is up to date ($archive)"
    return 0
  fi
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/hapair-$name.XXXXXX")
  say "resolving $name with Maven ($pom)"
  mvn -q -B -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$work/$top/$libdir"
  tar -C "$work" -czf "$archive.tmp" "$top"
  mv "$archive.tmp" "$archive"
  echo "$digest" > "$stamp"
  rm -rf "$work"
  say "built $archive ($(du -h "$archive" | cut -f1))"
}

version() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$2" | head -1; }

kafka_version=$(version kafka.version "$here/archives/kafka.pom.xml")
flume_version=$(version flume.version "$here/archives/flume.pom.xml")
build kafka "$here/archives/kafka.pom.xml" "kafka_2.13-$kafka_version" libs
build flume "$here/archives/flume.pom.xml" "apache-flume-$flume_version-bin" lib
