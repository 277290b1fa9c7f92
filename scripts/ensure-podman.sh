#!/usr/bin/env bash
# Make sure podman (and runc, the runtime the benchmarks configure it with) is installed, for `make bench`.
# Only the benchmarks use podman (never `make test`). As root we install Debian's packages when missing;
# otherwise we say what is missing and fail. Idempotent: nothing happens when both are there.
set -euo pipefail

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || missing+=(runc)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  echo "error: the benchmarks need ${missing[*]}, and installing it needs root." >&2
  echo "       Install Debian's ${missing[*]} (apt-get install ${missing[*]}), then try again." >&2
  exit 1
fi

echo "==> installing ${missing[*]} (Debian)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq "${missing[@]}" >&2
