#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`.
# On a fresh machine (CI, a new session) no engine runs: as root we install Debian's docker.io when
# dockerd is missing and start dockerd in the background; otherwise we say what is missing and fail.
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/minikubelet-dockerd.log}
wait_seconds=${DOCKERD_WAIT_SECONDS:-60}
answer_seconds=${DOCKERD_ANSWER_SECONDS:-30}  # how long a running dockerd may take to answer before it counts as wedged

# `docker info` with a deadline: a wedged engine (Docker 20.10 can deadlock under heavy container churn) would
# otherwise hang this script, and CI with it, for good. Exit status 124: it timed out.
answers() { timeout "$1" docker info >/dev/null 2>&1; }

status=0
answers "$answer_seconds" || status=$?
if [ "$status" = 0 ]; then
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  echo "error: no Docker engine answers 'docker info', and installing one needs root." >&2
  echo "       Start a Docker engine (or run 'make docker' as root), then try again." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "==> installing Docker engine (Debian docker.io)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq docker.io >&2
fi

dockerd_running() {
  if command -v pgrep >/dev/null 2>&1; then pgrep -x dockerd >/dev/null 2>&1; else pidof dockerd >/dev/null 2>&1; fi
}

start_dockerd() {
  # A pid file left by a dockerd that died with its machine would stop a new one from starting.
  rm -f /var/run/docker.pid
  echo "==> starting dockerd in the background (log: $log)" >&2
  mkdir -p "$(dirname "$log")"
  nohup dockerd >>"$log" 2>&1 </dev/null &
}

if [ "$status" = 124 ]; then
  echo "==> dockerd runs but has not answered for ${answer_seconds} s (wedged): killing it and its containerd" >&2
  pkill -9 -x dockerd || true
  pkill -9 -x containerd || true
fi

# Wait for an answer; a dockerd that is still shutting down (or dies, or was just killed) is replaced once it is
# gone. The deadline is in seconds, not rounds: each `docker info` may itself take up to 10 s.
deadline=$((SECONDS + wait_seconds))
while [ "$SECONDS" -lt "$deadline" ]; do
  if answers 10; then
    echo "==> Docker engine is ready" >&2
    exit 0
  fi
  dockerd_running || start_dockerd
  sleep 0.2
done
echo "error: dockerd did not answer within ${wait_seconds}s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
