#!/bin/sh
# Installs the Debian 12 packages the build and the tests need, if any is missing.
# Usage: scripts/deps.sh [build|test]
set -eu

BUILD_PKGS="gcc meson ninja-build pkg-config libpixman-1-dev libvirglrenderer-dev libepoxy-dev
	libgbm-dev libegl-dev"
# cmocka for unit tests; QEMU's C backend (qemu-system-gui) to compare against;
# python3 for the end-to-end runner; the e2e runner fetches the rest itself.
TEST_PKGS="libcmocka-dev qemu-system-gui python3 python3-minimal xz-utils cpio"

pkgs=$BUILD_PKGS
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
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
