#!/bin/sh
# The daemon binary as a user meets it: --help, --version, --print-capabilities,
# exit status 2 and one line for every bad option, exit 1 for an unavailable
# mode, clean shutdown on SIGINT/SIGTERM (socket removed), stale sockets.
# Usage: test-cli.sh path/to/vhost-device-gpu
set -u
BIN=$1
T=$(mktemp -d /tmp/vdg-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { # description, command...
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# expect_error STATUS "substring" args... : exits STATUS, stderr is one line containing substring
expect_error() {
	want=$1
	sub=$2
	shift 2
	timeout 5 "$BIN" "$@" >"$T/out" 2>"$T/err"
	got=$?
	lines=$(wc -l <"$T/err")
	if [ "$got" -eq "$want" ] && grep -qF -- "$sub" "$T/err" && [ "$lines" -le 1 ] &&
		[ ! -s "$T/out" ]; then
		ok "$* -> exit $want, '$sub'"
	else
		not_ok "$* -> exit $got (want $want), stderr: $(cat "$T/err")"
	fi
}

"$BIN" --help >"$T/help"
check "--help exits 0" [ $? -eq 0 ]
for opt in --socket-path --fd --gpu-mode --virgl --capset --use-egl --use-glx --use-gles \
	--use-surfaceless --render-node --headless --scanout-mode --print-capabilities --help --version \
	virglrenderer gfxstream 2d virgl2 gfxstream-vulkan gfxstream-gles RUST_LOG; do
	check "--help mentions $opt" grep -qF -- "$opt" "$T/help"
done
check "-h is --help" sh -c "'$BIN' -h | cmp -s - '$T/help'"
check "--version" sh -c "'$BIN' --version | grep -qE '^vhost-device-gpu [0-9]+\.[0-9]+\.[0-9]+$'"
check "-V" sh -c "'$BIN' -V | grep -q '^vhost-device-gpu '"
"$BIN" --print-capabilities >"$T/caps"
check "--print-capabilities exits 0" [ $? -eq 0 ]
check "--print-capabilities is gpu JSON" python3 -c "
import json, sys
d = json.load(open('$T/caps'))
assert d['type'] == 'gpu', d
assert 'render-node' in d['features'], d
"
check "--print-capabilities ignores other options" \
	sh -c "'$BIN' --gpu-mode nonsense --print-capabilities | cmp -s - '$T/caps'"

expect_error 2 "'--gpu-mode <GPU_MODE>'" --gpu-mode vulkan
expect_error 2 "virglrenderer, gfxstream, 2d" -g nope
expect_error 2 "'--capset <CAPSET>'" -g virglrenderer -c virgl,nope
expect_error 2 "does not support gfxstream-vulkan" -g virglrenderer -c gfxstream-vulkan
expect_error 2 "the 2d mode has no capsets" -g 2d -c virgl
expect_error 2 "needs GLES" -g gfxstream -c gfxstream-gles --use-gles false
expect_error 2 "'--use-egl <USE_EGL>': accepted values are true, false" --use-egl yes
expect_error 2 "'--use-glx <USE_GLX>'" --use-glx 1
expect_error 2 "'--use-gles <USE_GLES>'" --use-gles on
expect_error 2 "'--use-surfaceless <USE_SURFACELESS>'" --use-surfaceless maybe
expect_error 2 "'--fd <FDNUM>'" --fd abc
expect_error 2 "'--fd <FDNUM>'" --fd -3
expect_error 2 "cannot be used together" --fd 3 --socket-path "$T/s"
expect_error 2 "cannot be used with '--gpu-mode 2d'" --virgl --gpu-mode 2d
expect_error 2 "unknown option '--bogus'" --bogus
expect_error 2 "requires a value" --socket-path
expect_error 2 "unexpected argument 'extra'" extra
expect_error 2 "not an open socket" --fd 97
export RUST_LOG=vhost_device_gpu=loud
expect_error 2 "RUST_LOG" -s "$T/s"
unset RUST_LOG
expect_error 1 "gfxstream is not packaged" -g gfxstream -s "$T/s"
expect_error 2 "'--scanout-mode <MODE>': accepted values are auto, dmabuf, readback" \
	--scanout-mode copy
expect_error 2 "gpu mode 2d has no GPU textures" --scanout-mode dmabuf

expect_error 2 "no way to make GL contexts" -g virglrenderer --use-egl false --use-glx false
# a GL stack that cannot start fails at start-up (exit 1, one error line), not at the guest's first command
if grep -q '"virgl"' "$T/caps"; then
	LIBGL_DRIVERS_PATH=/nonexistent timeout 30 "$BIN" -g virglrenderer -s "$T/gl.sock" \
		>/dev/null 2>"$T/gl.err"
	st=$?
	check "a broken GL stack exits 1 at start (got $st)" [ $st -eq 1 ]
	check "... with a line saying what to try" \
		grep -q "virglrenderer could not start (EGL+GLES+surfaceless.*--use-surfaceless true" "$T/gl.err"
	check "... and leaves no socket" [ ! -e "$T/gl.sock" ]
	# libepoxy would abort() without the GLES library: hide it (root, own mount namespace)
	gles=$(ldconfig -p | awk '/libGLESv2.so.2 .*x86-64/ { print $NF; exit }')
	: >"$T/empty.so"
	if [ "$(id -u)" -eq 0 ] && [ -n "$gles" ] &&
		unshare -m sh -c "mount --bind '$T/empty.so' '$gles'" 2>/dev/null; then
		unshare -m sh -c "mount --bind '$T/empty.so' '$gles' || exit 99
			exec timeout 30 '$BIN' -g virglrenderer -s '$T/gl.sock'" >/dev/null 2>"$T/gles.err"
		st=$?
		check "a missing libGLESv2 exits 1, no abort (got $st)" [ $st -eq 1 ]
		check "... naming the package" grep -q "needs libGLESv2.so.2, which is missing (Debian: libgles2)" \
			"$T/gles.err"
	else
		ok "# SKIP missing libGLESv2: needs root, a mount namespace (not in a chroot) and libGLESv2"
	fi
	expect_error 1 "cannot open --render-node $T/none" -g virglrenderer --render-node "$T/none" \
		-s "$T/gl.sock"
	expect_error 1 "--render-node /dev/null is not a DRM device" -g virglrenderer \
		--render-node /dev/null -s "$T/gl.sock"
else
	ok "# SKIP broken GL stack: this build has no virglrenderer"
fi

# --scanout-mode dmabuf where nothing can be exported (virgl build, no render
# node, as on CI): exit 1 at start-up, naming the option and the way out
if grep -q '"virgl"' "$T/caps" && ! ls /dev/dri/renderD* >/dev/null 2>&1; then
	timeout 30 "$BIN" -g virglrenderer --scanout-mode dmabuf -s "$T/d.sock" >/dev/null 2>"$T/d.err"
	st=$?
	check "--scanout-mode dmabuf without export exits 1 (got $st)" [ $st -eq 1 ]
	check "... saying why and what to use" \
		grep -q "scanout-mode dmabuf: .*use --scanout-mode readback" "$T/d.err"
	check "... and leaves no socket" [ ! -e "$T/d.sock" ]
else
	ok "# SKIP --scanout-mode dmabuf failure: a render node or no virgl here"
fi

# runs, prints the socket and the QEMU command line, removes the socket on SIGTERM/SIGINT
for sig in TERM INT; do
	"$BIN" -s "$T/gpu.sock" >"$T/run.out" 2>"$T/run.err" &
	pid=$!
	i=0
	while [ ! -S "$T/gpu.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	check "listens on the socket ($sig run)" [ -S "$T/gpu.sock" ]
	check "prints the socket path" grep -qF "$T/gpu.sock" "$T/run.out"
	check "prints a QEMU command line" grep -q "vhost-user-gpu-pci,chardev=vgpu" "$T/run.out"
	kill -s "$sig" $pid
	wait $pid
	st=$?
	check "SIG$sig exits 0 (got $st)" [ $st -eq 0 ]
	check "SIG$sig removes the socket" [ ! -e "$T/gpu.sock" ]
done

# a stale socket file (nobody listening) is replaced; a live one is refused
python3 -c "
import socket; s = socket.socket(socket.AF_UNIX); s.bind('$T/stale.sock')"
"$BIN" -s "$T/stale.sock" >"$T/stale.out" 2>&1 &
pid=$!
i=0
while ! grep -q listening "$T/stale.out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "a stale socket file is replaced" grep -q "listening on $T/stale.sock" "$T/stale.out"
timeout 5 "$BIN" -s "$T/stale.sock" >/dev/null 2>"$T/busy.err"
check "a live socket is refused" grep -q "another daemon is serving it" "$T/busy.err"
kill $pid
wait $pid
touch "$T/plain"
expect_error 1 "cannot listen on" -s "$T/plain"

echo "1..$n"
[ $fails -eq 0 ]
