# Guest side of the fbcon test (sourced by /init; helpers from there).
# The kernel's framebuffer console stays bound. On tty1 we clear the screen,
# print known text in the default colours (grey on black) from the top-left
# corner, and a bar of 40 cells with a green background at row 10, column 11.
# The host finds the bar, derives the font cell size from it, and checks the
# text area for glyph-like grey pixels.
tty=/dev/tty1
chvt 1
printf '\033[0m\033[2J\033[H' >"$tty"
{
	echo "vhost-device-gpu e2e: fbcon test"
	echo "The quick brown fox jumps over the lazy dog 0123456789"
	echo "kernel $(uname -r), fb0 $(cat /sys/class/graphics/fb0/name)"
	printf '\033[10;11H\033[42m%40s\033[0m' ""
} >"$tty"
sleep 0.5
e2e_screendump fbcon
