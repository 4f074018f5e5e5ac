#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the vdg-frontend CLI against QEMU's vhost-user-gpu back-end (a fresh
# process per case) and checks its output.
# Usage: run-frontend-reference.sh VDG_FRONTEND [BACKEND]   (exit 77 = skipped)
set -u
FE=${1:?usage: $0 VDG_FRONTEND [BACKEND]}
BACKEND=${2:-/usr/lib/qemu/vhost-user-gpu}
[ -x "$BACKEND" ] || { echo "SKIP: $BACKEND not found"; exit 77; }
DIR=$(mktemp -d /tmp/vdgfe-cli-XXXXXX)
SOCK=$DIR/gpu.sock
FAILS=0
BPID=

cleanup() {
	[ -n "$BPID" ] && kill -9 "$BPID" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

# run NAME GREP_PATTERN FRONTEND_ARGS...
run() {
	name=$1 pattern=$2
	shift 2
	rm -f "$SOCK"
	"$BACKEND" --socket-path="$SOCK" >"$DIR/backend.log" 2>&1 &
	BPID=$!
	timeout 60 "$FE" --socket "$SOCK" "$@" >"$DIR/out" 2>&1
	rc=$?
	# The back-end serves one connection, then exits.
	i=0
	while kill -0 "$BPID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$BPID" 2>/dev/null
	wait "$BPID" 2>/dev/null
	BPID=
	if [ $rc -eq 0 ] && grep -q -- "$pattern" "$DIR/out"; then
		echo "ok $name"
	else
		echo "not ok $name (exit $rc)"
		sed 's/^/#   /' "$DIR/out" "$DIR/backend.log"
		FAILS=$((FAILS + 1))
	fi
}

run negotiate '^queue_num 2$' negotiate
run negotiate-features '^features 0x0000000[0-9a-f]*$' negotiate
run info '^scanout 0: 1280x800+0+0 enabled 1' info
run info-2-outputs '^scanout 1: 1024x768+0+0 enabled 1' --outputs 2 --width 1024 --height 768 info
run info-qemu72-display '^display_info response 0x1101$' --display-proto 0 info
run draw '^PASS$' draw
run draw-no-event-idx '^PASS$' --no-event-idx draw
run draw-no-indirect '^PASS$' --no-event-idx --no-indirect-desc draw
run draw-indirect '^PASS$' --indirect draw
run draw-split-desc '^PASS$' --split 8 draw
run draw-indirect-split '^PASS$' --indirect --split 4 draw
run draw-one-entry '^PASS$' --entry-size 0 draw
run draw-split-mem '^PASS$' --split-mem draw
run draw-split-mem-gap '^PASS$' --split-mem --region-gap 0x100000 --gpa-base 0x100000000 draw
run draw-mem-slots '^PASS$' --mem-slots --split-mem draw
run draw-fence '^PASS$' --fence --ack-all --ctrl-qsize 256 draw
run draw-spin '^PASS$' --spin draw
run draw-1080p '^PASS$' --width 1920 --height 1080 --mem 128 draw

if [ $FAILS -ne 0 ]; then
	echo "FAIL ($FAILS)"
	exit 1
fi
echo PASS
