#!/bin/sh
# Answer ONE HTTP request on stdin/stdout (started by `nc -ll ... -e`, one process per connection).
# Every method and path gets `200 OK` and a text/plain body echoing the request line, the request
# headers and, when a Content-Length is given, the request body. The request line goes to stderr, which
# the entrypoint points at the container's stdout, so `logs` shows one line per request.
# Runs under busybox ash, whose `read` has -t (a timeout) and reads sockets byte by byte.
# shellcheck disable=SC3045
cr=$(printf '\r')

# A client that connects and sends nothing must not hold a process forever.
IFS= read -r -t 10 request || exit 0
request=${request%"$cr"}
[ -n "$request" ] || exit 0

headers=''
length=0
while IFS= read -r -t 10 line; do
  line=${line%"$cr"}
  [ -n "$line" ] || break
  headers="$headers$line
"
  case $line in
    [Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Ll][Ee][Nn][Gg][Tt][Hh]:*)
      length=$(echo "${line#*:}" | tr -dc '0-9')
      ;;
  esac
done

body="$request
$headers"
if [ "${length:-0}" -gt 0 ] 2>/dev/null; then
  # Read (and echo) the request body, up to 1 MiB, so that closing the socket with unread data does not
  # reset the connection under the client's feet.
  payload=$(timeout 10 head -c "$length" | head -c 1048576)
  body="$body
$payload
"
fi

method=${request%% *}
size=$(printf '%s' "$body" | wc -c)
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' "$size"
[ "$method" = HEAD ] || printf '%s' "$body"

echo "$(date -u '+%Y-%m-%dT%H:%M:%SZ') $request" >&2
