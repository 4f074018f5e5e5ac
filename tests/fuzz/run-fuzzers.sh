#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs each libFuzzer target for MINUTES minutes, at most two at a time
# (JOBS=n to change), from a build configured as in docs/fuzzing.md.
#
#   tests/fuzz/run-fuzzers.sh MINUTES [target...]
#
# Environment: BUILD (default build-fuzz), WORK (default $BUILD/fuzz-work),
# JOBS (default 2), FUZZ_ARGS (extra libFuzzer flags).
# New inputs go to $WORK/corpus/<target> (the seeds in tests/fuzz/corpus are
# read, never written); crashes, leaks and timeouts to $WORK/crashes/<target>/,
# logs to $WORK/<target>.log. Exit status 1 if any target found something.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
all="fuzz-vu-msg fuzz-vu-vring fuzz-gpu-cmd fuzz-display"

if [ $# -lt 1 ]; then
	echo "usage: $0 MINUTES [target...]   (targets: $all)" >&2
	exit 2
fi
minutes=$1
shift
targets=${*:-$all}
build=${BUILD:-$root/build-fuzz}
work=${WORK:-$build/fuzz-work}
jobs=${JOBS:-2}
seconds=$((minutes * 60))

for t in $targets; do
	if [ ! -x "$build/tests/fuzz/$t" ]; then
		echo "$0: $build/tests/fuzz/$t not built; see docs/fuzzing.md" >&2
		exit 2
	fi
done

run_one() {
	t=$1
	mkdir -p "$work/corpus/$t" "$work/crashes/$t"
	# rss: a guest may legitimately make the daemon hold 1 GiB of resources
	"$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$work/crashes/$t/" \
		${FUZZ_ARGS:-} "$work/corpus/$t" "$here/corpus/$t" >"$work/$t.log" 2>&1 || true
	stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$work/$t.log" | tail -1)
	found=$(ls "$work/crashes/$t" | wc -l)
	echo "$t: $stats; $found finding(s) in $work/crashes/$t"
}

running=0
for t in $targets; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

status=0
for t in $targets; do
	if [ -n "$(ls "$work/crashes/$t")" ]; then
		status=1
	fi
done
exit $status
