#!/usr/bin/env bash
# Build the lab's node image from Debian's packages with debootstrap (no
# container registry is needed), once: the image is tagged with a hash of
# this script, and an image with that tag is reused as it is.
#
#   lab/image.sh [IMAGE]      IMAGE defaults to hapair/node:sid
set -euo pipefail

image=${1:-hapair/node:sid}
suite=${HAPAIR_NODE_SUITE:-sid}
mirror=${HAPAIR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What a minimal server has: systemd as init, Python for Ansible, the tools
# the roles and their checks call (ip, sysctl, ping, ss).
packages=systemd,systemd-sysv,dbus,python3,python3-apt,iproute2,procps,sudo,ca-certificates,gnupg,iputils-ping,curl,less

say() { printf 'lab/image: %s\n' "$*" >&2; }

digest=$( { cat "$0"; echo "$suite $mirror $packages"; } | sha256sum | cut -c1-12)
repo=${image%:*}
pinned="$repo:$suite-$digest"

if docker image inspect "$pinned" >/dev/null 2>&1; then
  docker tag "$pinned" "$image"
  say "$image is up to date ($pinned)"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && [ -r /etc/debian_version ]; then
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  else
    say "debootstrap is missing: install it (Debian/Ubuntu: apt-get install debootstrap) and re-run"
    exit 1
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hapair-rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
start=$(date +%s)
say "debootstrap $suite into $rootfs (packages: $packages)"
# Snapshot mirrors serve Release files past their Valid-Until date.
debootstrap --variant=minbase --include="$packages" \
  --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
  "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    say "debootstrap failed (full log above)"
    exit 1
  }

cat >"$rootfs/etc/apt/apt.conf.d/99hapair-lab" <<'APT'
// Lab nodes use mirrors whose Release files may be past Valid-Until.
Acquire::Check-Valid-Until "false";
APT
printf 'deb %s %s main\n' "$mirror" "$suite" >"$rootfs/etc/apt/sources.list"
# Each container gets its own machine id at first boot.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
# Units that make no sense in a container and would leave it 'degraded'.
for unit in getty@tty1.service systemd-firstboot.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

say "importing as $pinned"
tar -C "$rootfs" -c . | docker import \
  -c 'CMD ["/lib/systemd/systemd"]' \
  -c 'ENV container=docker' \
  -m "hapair.stack lab node ($suite)" - "$pinned" >/dev/null
docker tag "$pinned" "$image"
say "built $image in $(( $(date +%s) - start ))s, $(docker image inspect -f '{{.Size}}' "$pinned" | awk '{printf "%.0f MB", $1/1e6}')"

