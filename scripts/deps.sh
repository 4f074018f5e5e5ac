#!/bin/sh
# Installs the Debian 12 packages the build and the tests need, if any is missing.
# Usage: scripts/deps.sh [build|test]
set -eu

BUILD_PKGS="gcc libc6-dev meson ninja-build pkg-config libpixman-1-dev libvirglrenderer-dev libepoxy-dev
	libgbm-dev libegl-dev"
# What --gpu-mode virglrenderer loads at run time (libepoxy dlopens the GL
# libraries): Mesa's EGL, its software rasterizer (llvmpipe) and GLES/GL.
RUN_PKGS="libegl1 libegl-mesa0 libgl1-mesa-dri libgbm1 libgles2 libgl1"
# cmocka for unit tests; QEMU's C backend (qemu-system-gui) to compare against;
# python3 for the end-to-end runner (which fetches the rest itself); valgrind for
# e2e-valgrind-fb-pattern (it skips without it).
TEST_PKGS="libcmocka-dev qemu-system-gui python3 python3-minimal xz-utils cpio valgrind"

pkgs="$BUILD_PKGS $RUN_PKGS"
[ "${1:-build}" = test ] && pkgs="$pkgs $TEST_PKGS"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: run as root (or install:$missing)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	log=$(mktemp)
	# shellcheck disable=SC2086
	if ! { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } \
		>"$log" 2>&1; then
		tail -20 "$log" >&2
		echo "deps: apt-get failed (full log: $log)" >&2
		exit 1
	fi
	rm -f "$log"
fi
