#!/bin/bash
# One-command demo: prepare the e2e cache if needed, start a vhost-user GPU
# backend, boot a guest that draws a picture and some console text through it,
# and save the screendump as demo.png.
#
# Usage: tests/e2e/demo.sh [OUT_DIR]
#   DEMO_BACKEND  backend command; {socket} is replaced by the socket path.
#                 Default: build/src/vhost-device-gpu --gpu-mode 2d --socket-path {socket}
#   DEMO_DEVICE   vhost-user-gpu-pci (default) or vhost-user-vga
#   VDG_E2E_CACHE cache directory (default /var/cache/vdg-e2e)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/build/e2e-demo}")
DEFAULT_BACKEND="$ROOT/build/src/vhost-device-gpu --gpu-mode 2d --socket-path {socket}"
BACKEND=${DEMO_BACKEND:-$DEFAULT_BACKEND}
DEVICE=${DEMO_DEVICE:-vhost-user-gpu-pci}

case "$BACKEND" in
*"{socket}"*) ;;
*) BACKEND="$BACKEND --socket-path {socket}" ;;
esac
exe=${BACKEND%% *}
if [ ! -x "$exe" ] && ! command -v "$exe" >/dev/null; then
	echo "demo: backend $exe not found; build it first or set DEMO_BACKEND" >&2
	exit 1
fi

mkdir -p "$OUT"
rc=0
"$HERE/run.py" --backend-cmd "$BACKEND" --device "$DEVICE" --test demo --out "$OUT" || rc=$?
if [ -f "$OUT/demo.png" ]; then
	echo "demo: picture saved to $OUT/demo.png"
fi
exit $rc
