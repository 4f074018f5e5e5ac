# Guest side of the fb-pattern test (sourced by /init; helpers from there).
# Fills /dev/fb0 with four horizontal bands, top to bottom red, green, blue,
# white, each FB_H/4 rows high; leftover rows stay as they are. The host
# compares every pixel of every band.
e2e_fbcon_unbind
e2e_fb_geometry
if [ "$FB_BPP" != 32 ]; then
	e2e_fail "fb0 has $FB_BPP bits per pixel, expected 32"
else
	band=$((FB_H / 4 * FB_STRIDE))
	# XRGB8888 little-endian: bytes B, G, R, X.
	{
		e2e_pixels '\000\000\377\000' "$band"
		e2e_pixels '\000\377\000\000' "$band"
		e2e_pixels '\377\000\000\000' "$band"
		e2e_pixels '\377\377\377\000' "$band"
	} >/tmp/frame
	e2e_fb_write /tmp/frame
	# The fbdev emulation flushes damage from a worker: let it run.
	sleep 0.3
	e2e_screendump "${E2E_DUMP_NAME:-fb-pattern}"
fi
