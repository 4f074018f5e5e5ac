# Guest side of the gl-render test (3D image; sourced by /init).
# Proves that guest GL goes through virgl to the host renderer: the driver
# must see +virgl, a render node must exist, and glmark2 must report a
# virgl renderer (guest Mesa falls back to its own llvmpipe silently).
# Needs no scanout: glmark2 renders off-screen.
e2e_fbcon_unbind
# Scanout is gl-scanout's business: a refused SET_SCANOUT (command 0x103) is
# shown but not failed here. (QEMU's backend with the surfaceless shim refuses
# every scanout in virgl mode.)
E2E_TOLERATED_ERRORS='\(command 0x103\)'
dmesg | grep -q '\[drm\] features: +virgl' || e2e_fail "the driver does not see VIRTIO_GPU_F_VIRGL"
[ -e /dev/dri/renderD128 ] || e2e_fail "no /dev/dri/renderD128"
glmark2-es2-drm --off-screen -b build:duration=3 -b texture:duration=3 >/tmp/glmark2.log 2>&1
rc=$?
grep -E 'GL_RENDERER|GL_VERSION|\[build\]|\[texture\]|Score' /tmp/glmark2.log | sed 's/^/E2E: glmark2: /'
[ $rc = 0 ] || e2e_fail "glmark2-es2-drm exited $rc"
grep 'GL_RENDERER' /tmp/glmark2.log | grep -q virgl ||
	e2e_fail "glmark2 renderer is not virgl: $(grep GL_RENDERER /tmp/glmark2.log)"
