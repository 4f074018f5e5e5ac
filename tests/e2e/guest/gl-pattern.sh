# Guest side of the gl-pattern test (3D image; sourced by /init).
# Our own GL program (guest/gl-pattern.c, built by setup.sh --3d) draws a known
# image with GLES2 through virgl, scans it out by KMS (SetCrtc of a grey decoy,
# then a page flip to the pattern) and holds it; the host checks every pixel of
# the screendump, orientation included (run.py check_gl_pattern).
e2e_fbcon_unbind
dmesg | grep -q '\[drm\] features: +virgl' || e2e_fail "the driver does not see VIRTIO_GPU_F_VIRGL"
[ -e /dev/dri/renderD128 ] || e2e_fail "no /dev/dri/renderD128"
gl-pattern --hold 90 >/tmp/gl-pattern.log 2>&1 &
glp=$!
i=0
while ! grep -q 'GL-PATTERN: READY' /tmp/gl-pattern.log && [ $i -lt 600 ] &&
	kill -0 $glp 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q 'GL-PATTERN: READY' /tmp/gl-pattern.log; then
	# The mode the program scanned out: run.py compares the dump's size with it.
	echo "E2E-INFO gl-mode $(sed -n 's/^GL-PATTERN: READY //p' /tmp/gl-pattern.log)"
	e2e_screendump gl-pattern
else
	e2e_fail "gl-pattern did not get its pattern on the screen within 60 s"
fi
kill $glp 2>/dev/null
wait $glp
rc=$?
sed 's/^/E2E: gl-pattern: /' /tmp/gl-pattern.log
[ $rc = 0 ] || e2e_fail "gl-pattern exited $rc"
grep 'GL_RENDERER' /tmp/gl-pattern.log | grep -q virgl ||
	e2e_fail "gl-pattern renderer is not virgl: $(grep GL_RENDERER /tmp/gl-pattern.log)"
