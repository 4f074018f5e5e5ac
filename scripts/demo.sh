#!/bin/sh
# Builds the daemon if needed, boots a small Debian guest in QEMU against it,
# and saves what the guest showed as a PNG (first run downloads QEMU 10 and a
# guest kernel into /var/cache/vdg-e2e; later runs take a few seconds).
# Usage: scripts/demo.sh [OUT_DIR]
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
[ -f build/build.ninja ] || rm -rf build
[ -f build/build.ninja ] || meson setup build >build.setup.log 2>&1 ||
	{ tail -20 build.setup.log; exit 1; }
ninja -C build >build.ninja.log 2>&1 || { tail -40 build.ninja.log; exit 1; }
exec tests/e2e/demo.sh "$@"
