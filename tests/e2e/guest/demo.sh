# Guest side of the demo (sourced by /init; helpers from there).
# Copies a host-drawn picture (fw_cfg opt/e2e/image.raw, XRGB8888 at the
# fb0 geometry) to /dev/fb0, then writes a few coloured lines through the
# kernel console on top of it.
e2e_fb_geometry
e2e_fw_cfg image.raw >/tmp/image.raw
size=$(stat -c %s /tmp/image.raw)
if [ "$size" != $((FB_STRIDE * FB_H)) ]; then
	e2e_fail "image.raw is $size bytes, fb0 needs $((FB_STRIDE * FB_H))"
else
	chvt 1
	printf '\033[0m\033[2J' >/dev/tty1
	e2e_fb_write /tmp/image.raw
	{
		printf '\033[3;5H\033[1;37;44m  vhost-device-gpu  \033[0m'
		printf '\033[5;5H\033[1;33;40m guest: Linux %s, %s on %sx%s \033[0m' \
			"$(uname -r)" "$(cat /sys/class/graphics/fb0/name)" "$FB_W" "$FB_H"
		printf '\033[6;5H\033[1;32;40m %s \033[0m' "$(dmesg | grep -o 'features: .*' | head -1)"
		printf '\033[7;5H\033[1;36;40m frames reach QEMU through the vhost-user-gpu socket \033[0m'
	} >/dev/tty1
	sleep 0.5
	e2e_screendump demo
fi
