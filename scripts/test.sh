#!/bin/sh
# Installs what is missing, builds the normal and the sanitizer (ASan+UBSan)
# trees, runs the whole suite in both, and ends with one line:
#   N passed, N failed[, N skipped]
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh test

build() { # dir, extra meson options
	dir=$1
	shift
	# a half-configured tree (an earlier failed setup) is configured again from scratch
	[ -f "$dir/build.ninja" ] || rm -rf "$dir"
	[ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 ||
		{ tail -20 "$dir.setup.log"; exit 1; }
	ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -40 "$dir.ninja.log"; exit 1; }
}
build build
build build-asan -Db_sanitize=address,undefined -Db_lundef=false

status=0
# e2e tests boot a guest: they run once, in the normal tree (see docs/e2e-tests.md)
meson test -C build --print-errorlogs --num-processes 2 || status=1
meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite e2e \
	--no-suite bench || status=1

python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    tree = path.split("/")[0]
    for line in open(path, newline='\n'):
        line = line.strip("\0 \n")
        if not line:
            continue
        t = json.loads(line)
        r = t["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            counts["passed"] += 1
        elif r == "SKIP":
            counts["skipped"] += 1
            why = (t.get("stdout") or "").strip().splitlines()
            print(f"skipped: {tree}/{t['name']}: {why[-1] if why else 'no reason printed'}")
        else:
            counts["failed"] += 1
            print(f"failed: {tree}/{t['name']} ({r})")
line = f"{counts['passed']} passed, {counts['failed']} failed"
if counts["skipped"]:
    line += f", {counts['skipped']} skipped"
print(line)
PY
exit $status
