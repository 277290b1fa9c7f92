#!/bin/sh
# HTTP echo server on port ${PORT:-3000}: busybox `nc -ll` accepts connections forever and forks
# /echo.sh for each one (so requests are served concurrently). SIGTERM/SIGINT stop it and exit 0.
port=${PORT:-3000}

# echo.sh logs to stderr; send it to stdout so `docker logs` / `minikubelet logs` show the requests.
exec 2>&1

nc -ll -p "$port" -e /echo.sh &
pid=$!
trap 'echo "echo: shutting down"; kill "$pid" 2>/dev/null; exit 0' TERM INT
echo "echo: listening on :$port"
wait "$pid"
status=$?
echo "echo: server exited with status $status"
exit "$status"
