#!/bin/sh
# Installs what is missing, builds, and starts the daemon on its defaults.
# Extra arguments go to the daemon, e.g.: scripts/run.sh --gpu-mode 2d --socket-path /tmp/gpu.sock
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
exec build/src/vhost-device-gpu "$@"
