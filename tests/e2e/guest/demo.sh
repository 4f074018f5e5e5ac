# Guest side of the demo (sourced by /init; helpers from there).
# Copies a host-drawn picture (XRGB8888 at the fb0 geometry, on the virtio-blk
# disk /dev/vda) to /dev/fb0, then writes a few coloured lines through the
# kernel console on top of it.
e2e_fb_geometry
i=0
while [ ! -e /dev/vda ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
size=$(($(cat /sys/block/vda/size 2>/dev/null || echo 0) * 512))
if [ "$size" -lt $((FB_STRIDE * FB_H)) ]; then
	e2e_fail "the picture disk has $size bytes, fb0 needs $((FB_STRIDE * FB_H))"
else
	chvt 1
	printf '\033[0m\033[2J' >/dev/tty1
	dd if=/dev/vda of=/dev/fb0 bs=$((FB_STRIDE * 16)) count=$((FB_H / 16)) 2>/dev/null
	{
		printf '\033[3;5H\033[1;37;44m  vhost-device-gpu  \033[0m'
		printf '\033[5;5H\033[1;33;40m guest: Linux %s, %s %sx%s \033[0m' \
			"$(uname -r)" "$(cat /sys/class/graphics/fb0/name)" "$FB_W" "$FB_H"
		printf '\033[6;5H\033[1;32;40m %s \033[0m' \
			"virtio-gpu $(dmesg | sed -n 's/.*\[drm\] features: //p' | tr '\n' ' ')"
		printf '\033[7;5H\033[1;36;40m %s \033[0m' \
			"picture and text reached QEMU through the vhost-user-gpu backend"
	} >/dev/tty1
	sleep 0.5
	e2e_screendump demo
fi
