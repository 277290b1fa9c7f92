#!/bin/sh
# `make demo`: the pods story in under a minute on the local Docker engine.
# Starts the node, applies the echo pod and a pod whose liveness probe fails, and shows what a pods
# tutorial reads: get pods, describe (Events), logs, and the probe timeline. The pods are deleted at the
# end; the node keeps running (`make down` stops it).
set -eu
mk=${MINIKUBELET:-.venv/bin/minikubelet}

say() { printf '\n\033[1m$ minikubelet %s\033[0m\n' "$*"; "$mk" "$@"; }

"$mk" apply --dry-run=client -f manifests/ >/dev/null   # every example manifest is valid
say up
say apply -f manifests/echo-pod.yml -f manifests/echo-lp.yml
say wait --for=condition=Ready pod/echo --timeout=60s

# echo-lp's liveness probe asks a port nobody listens on: wait (up to 60 s) for the first restart.
deadline=$(( $(date +%s) + 60 ))
restarts() {
  "$mk" get pod echo-lp -o json | "${PYTHON:-.venv/bin/python}" -c \
    'import json, sys; print(max([c.get("restartCount", 0) for c in json.load(sys.stdin)["status"].get("containerStatuses", [])] or [0]))'
}
until [ "$(restarts)" -ge 1 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "echo-lp did not restart within 60 s" >&2; exit 1; }
  sleep 1
done

say get pods -o wide
say describe pod/echo-lp
say logs echo
say timeline pod/echo-lp
say delete pod/echo pod/echo-lp --grace-period=1
printf '\nThe node is still running: `make down` (or `.venv/bin/minikubelet down`) stops it.\n'
