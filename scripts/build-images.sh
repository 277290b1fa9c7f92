#!/usr/bin/env bash
# Build the local images the demo and the tests use (no registry is reachable, nothing can be pulled):
#
#   minikubelet.local/busybox:1.35  FROM scratch + Debian's static busybox, every applet linked in /bin
#   minikubelet.local/pause:3.10    FROM scratch + images/pause/pause.c compiled with gcc -static
#   minikubelet.local/echo:v1       FROM the busybox image: HTTP echo server on port 3000
#
# Called by `make images` once a Docker engine answers (scripts/ensure-docker.sh). Idempotent and fast:
# each image carries the label minikubelet.build-hash=<sha256 of its inputs>, and an image whose tag
# already carries the current hash is not rebuilt. Prints one line per image: `built <tag>` or
# `up to date <tag>`.
#
# Environment: BUSYBOX (path of a static busybox binary, default /bin/busybox), CC (default gcc),
# FORCE=1 (rebuild every image).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
images="$repo/images"
build="$images/.build"

busybox_bin=${BUSYBOX:-/bin/busybox}
cc=${CC:-gcc}
force=${FORCE:-0}

busybox_tag=minikubelet.local/busybox:1.35
pause_tag=minikubelet.local/pause:3.10
sandbox_tag=registry.k8s.io/pause:3.10
echo_tag=minikubelet.local/echo:v1
hash_label=minikubelet.build-hash

# The engine is dockerd 20.10 (no BuildKit frontend for a v28 CLI): use the legacy builder, which works
# with every engine and never pulls a base image it already has.
export DOCKER_BUILDKIT=0
export DEBIAN_FRONTEND=noninteractive

die() {
  echo "error: $*" >&2
  exit 1
}

is_root() { [ "$(id -u)" = "0" ]; }

apt_updated=0
apt_install() {
  is_root || return 1
  command -v apt-get >/dev/null 2>&1 || return 1
  local log="$build/apt-get.log"
  if [ "$apt_updated" = 0 ]; then
    echo "==> apt-get update" >&2
    apt-get update -qq >"$log" 2>&1 || { cat "$log" >&2; return 1; }
    apt_updated=1
  fi
  echo "==> apt-get install $*" >&2
  NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1 ||
    { cat "$log" >&2; return 1; }
}

# A static busybox: `ldd` says "not a dynamic executable" (exit status 1) for a static binary.
is_static_busybox() {
  [ -x "$1" ] && "$1" true >/dev/null 2>&1 && ! ldd "$1" >/dev/null 2>&1
}

ensure_busybox() {
  is_static_busybox "$busybox_bin" && return 0
  if [ -n "${BUSYBOX:-}" ]; then
    die "BUSYBOX=$busybox_bin is not a runnable statically linked busybox"
  fi
  if ! is_root; then
    die "a static busybox is needed at /bin/busybox (Debian package busybox-static) and installing it
       needs root. Run 'sudo apt-get install busybox-static' (or set BUSYBOX=/path/to/static/busybox)."
  fi
  apt_install busybox-static || die "could not install busybox-static with apt-get"
  is_static_busybox "$busybox_bin" || die "$busybox_bin is still not a static busybox after installing busybox-static"
}

ensure_compiler() {
  local probe="$build/.cc-probe"
  if command -v "$cc" >/dev/null 2>&1 &&
    printf 'int main(void){return 0;}\n' | "$cc" -static -x c -o "$probe" - >/dev/null 2>&1; then
    rm -f "$probe"
    return 0
  fi
  rm -f "$probe"
  if [ "$cc" = gcc ] && is_root; then
    apt_install gcc libc6-dev || die "could not install gcc and libc6-dev with apt-get"
    return 0
  fi
  die "compiling pause.c needs a C compiler able to link statically ($cc -static; Debian: gcc libc6-dev)"
}

# pause: (re)compile when the binary is missing or older than its source.
ensure_pause_binary() {
  local src="$images/pause/pause.c" out="$build/pause"
  if [ -x "$out" ] && ! [ "$src" -nt "$out" ]; then
    return 0
  fi
  ensure_compiler
  echo "==> compiling $src" >&2
  "$cc" -static -Os -s -Wall -Wextra -o "$out.tmp" "$src"
  mv -f "$out.tmp" "$out"
}

# sha256 over the relative path and content of every file of images/<name>/, plus extra files (the
# binary) and extra strings (a parent image's hash), plus this script (it decides how images are built).
inputs_hash() {
  local name=$1
  shift
  (
    cd "$images"
    find "$name" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    for extra in "$@"; do
      if [ -f "$extra" ]; then
        sha256sum <"$extra"
      else
        echo "$extra"
      fi
    done
    sha256sum <"$repo/scripts/build-images.sh"
  ) | sha256sum | cut -d' ' -f1
}

current_hash() {
  docker image inspect -f "{{ index .Config.Labels \"$hash_label\" }}" "$1" 2>/dev/null || true
}

# build_image TAG NAME HASH EXTRA_FILE...: stage images/NAME/ plus the extra files into a clean context
# under images/.build/ and build it, unless TAG already carries HASH.
build_image() {
  local tag=$1 name=$2 hash=$3
  shift 3
  if [ "$force" != 1 ] && [ "$(current_hash "$tag")" = "$hash" ]; then
    echo "up to date $tag"
    return 0
  fi
  local ctx="$build/context-$name" log="$build/build-$name.log" old
  old=$(docker image inspect -f '{{ .Id }}' "$tag" 2>/dev/null || true)
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -R "$images/$name/." "$ctx/"
  local f
  for f in "$@"; do
    cp "$f" "$ctx/"
  done
  # Modes inside the image must not depend on the checkout's umask.
  find "$ctx" -type d -exec chmod 755 {} +
  find "$ctx" -type f ! -perm -u+x -exec chmod 644 {} +
  find "$ctx" -type f -perm -u+x -exec chmod 755 {} +
  if ! docker build --pull=false --label "$hash_label=$hash" --label "org.opencontainers.image.title=$tag" \
    -t "$tag" "$ctx" >"$log" 2>&1; then
    cat "$log" >&2
    die "docker build of $tag failed (log: $log)"
  fi
  rm -rf "$ctx"
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{ .Id }}' "$tag")" ]; then
    replaced+=("$old")
  fi
  echo "built $tag"
}

# Remove the images a rebuild replaced, newest first (the old echo image is a child of the old busybox).
# `docker image rm` without -f leaves an image alone while a container uses it or another tag names it.
remove_replaced() {
  local i
  for ((i = ${#replaced[@]} - 1; i >= 0; i--)); do
    docker image rm "${replaced[i]}" >/dev/null 2>&1 || true
  done
}

command -v docker >/dev/null 2>&1 || die "the docker CLI is missing (run 'make docker')"
docker info >/dev/null 2>&1 || die "no Docker engine answers 'docker info' (run 'make docker')"

mkdir -p "$build"
replaced=()
ensure_busybox
ensure_pause_binary

busybox_hash=$(inputs_hash busybox "$busybox_bin")
build_image "$busybox_tag" busybox "$busybox_hash" "$busybox_bin"

pause_hash=$(inputs_hash pause "$build/pause")
build_image "$pause_tag" pause "$pause_hash" "$build/pause"
# The kubelet's default sandbox image is registry.k8s.io/pause:3.10 (--pod-infra-image), which cannot be
# pulled here: the local pause image stands in under that name too, so the default works offline.
if [ "$(docker image inspect -f '{{.Id}}' "$sandbox_tag" 2>/dev/null)" != "$(docker image inspect -f '{{.Id}}' "$pause_tag")" ]; then
  docker tag "$pause_tag" "$sandbox_tag"
  echo "tagged $sandbox_tag"
fi

echo_hash=$(inputs_hash echo "busybox-image=$busybox_hash")
build_image "$echo_tag" echo "$echo_hash"

remove_replaced
