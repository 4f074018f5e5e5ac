# Guest side of the gl-scanout test (3D image; sourced by /init).
# kmscube draws a shaded cube with virgl and scans it out; after 3 s the host
# takes a screendump, which must show the frame (not QEMU's placeholder).
e2e_fbcon_unbind
dmesg | grep -q '\[drm\] features: +virgl' || e2e_fail "the driver does not see VIRTIO_GPU_F_VIRGL"
# kmscube quits on stdin EOF: give it a FIFO that a sleeping writer holds.
mkfifo /tmp/kmscube.in
sleep 120 >/tmp/kmscube.in &
holder=$!
kmscube -c 100000 </tmp/kmscube.in >/tmp/kmscube.log 2>&1 &
kms=$!
sleep 3
e2e_screendump kmscube
kill $kms 2>/dev/null
wait $kms
kill $holder 2>/dev/null
grep -E 'renderer|Using|fps|error' /tmp/kmscube.log | head -8 | sed 's/^/E2E: kmscube: /'
grep 'renderer:' /tmp/kmscube.log | grep -q virgl ||
	e2e_fail "kmscube renderer is not virgl: $(grep 'renderer:' /tmp/kmscube.log)"
