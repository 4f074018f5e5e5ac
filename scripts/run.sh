#!/bin/sh
# Installs what is missing, builds, and starts the daemon on its defaults.
# Extra arguments go to the daemon, e.g.: scripts/run.sh --gpu-mode 2d --socket-path /tmp/gpu.sock
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
[ -f build/build.ninja ] || rm -rf build
[ -f build/build.ninja ] || meson setup build >build.setup.log 2>&1 ||
	{ tail -20 build.setup.log; exit 1; }
ninja -C build >build.ninja.log 2>&1 || { tail -40 build.ninja.log; exit 1; }
exec build/src/vhost-device-gpu "$@"
