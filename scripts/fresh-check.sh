#!/bin/sh
# Checks the README's two commands on a fresh Debian 12: debootstraps a
# minimal bookworm into DIR (default /var/tmp/vdg-fresh), clones this
# repository's HEAD into it, runs .ci/run (the test command) and then
# scripts/run.sh for a few seconds (the run command), inside a chroot.
# Needs root, debootstrap and network access to the Debian mirror.
#
#   scripts/fresh-check.sh [DIR]
#
# Prints the test command's last line and the run command's banner; exits
# with .ci/run's status. DIR is left behind (unmounted) for a look inside.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/var/tmp/vdg-fresh}
mirror=${MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" = 0 ] || { echo "fresh-check: needs root" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y debootstrap >/dev/null

cleanup() {
	umount -R "$dir/dev" 2>/dev/null || true
	umount "$dir/proc" "$dir/sys" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ ! -x "$dir/bin/sh" ]; then
	mkdir -p "$dir"
	debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 ||
		{ tail -20 "$dir.debootstrap.log"; exit 1; }
fi
mount -t proc proc "$dir/proc"
mount --rbind /dev "$dir/dev"
mount -t sysfs sys "$dir/sys"
cp /etc/resolv.conf "$dir/etc/"
rm -rf "$dir/root/vdg"
git clone -q "$repo" "$dir/root/vdg"
echo "fresh-check: $(git -C "$dir/root/vdg" log --oneline -1)"

status=0
chroot "$dir" /bin/sh -c 'cd /root/vdg && .ci/run' >"$dir.ci.log" 2>&1 || status=$?
tail -1 "$dir.ci.log"
echo "fresh-check: .ci/run exited $status (log: $dir.ci.log)"
chroot "$dir" /bin/sh -c 'cd /root/vdg && timeout -s INT 10 scripts/run.sh' 2>&1 | tail -8 || true
exit $status
