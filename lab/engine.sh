#!/usr/bin/env bash
# Make sure a Docker engine answers. On Debian as root, install Debian's
# docker.io and start dockerd detached when none runs; anywhere else, say
# what to install and stop.
set -euo pipefail

log=${HAPAIR_DOCKERD_LOG:-/var/log/hapair-dockerd.log}
wait_s=${HAPAIR_DOCKERD_WAIT:-90}

say() { printf 'lab/engine: %s\n' "$*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || [ ! -r /etc/debian_version ]; then
  say "no Docker engine answers and this is not Debian as root."
  say "Install Docker (https://docs.docker.com/engine/install/) or Podman's"
  say "docker-compatible socket, make 'docker info' work for this user, then re-run."
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  say "starting dockerd (log: $log)"
  # No init system runs on such machines: start the daemon detached.
  setsid nohup dockerd >"$log" 2>&1 </dev/null &
fi

for _ in $(seq "$wait_s"); do
  if engine_answers; then
    say "engine up: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
    exit 0
  fi
  sleep 1
done
say "dockerd did not answer within ${wait_s}s; see $log"
exit 1
