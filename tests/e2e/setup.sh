#!/bin/bash
# Prepare everything the end-to-end tests need, in a cache directory:
#   - QEMU 10 from bookworm-backports, extracted (not installed), and a wrapper
#   - a Debian 12 kernel as a PVH-bootable vmlinux, plus its modules
#   - busybox-static
#   - the 2D initramfs (busybox, virtio-gpu modules, modetest)
#   - with --3d, also the 3D initramfs (Mesa virgl driver, kmscube, glmark2,
#     our guest/gl-pattern.c built here) and ref/virgl-surfaceless-shim.so,
#     for QEMU's reference backend --virgl
#
# Usage: setup.sh [--3d] [CACHE_DIR]
#   CACHE_DIR defaults to $VDG_E2E_CACHE, then /var/cache/vdg-e2e.
#
# Every step leaves a stamp in CACHE_DIR/stamps; a step whose stamp matches its
# inputs is skipped, so a second run takes seconds. Must run as root on Debian 12:
# missing host packages are installed with apt-get.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WANT_3D=0
CACHE=""
for arg in "$@"; do
	case "$arg" in
	--3d) WANT_3D=1 ;;
	-h | --help)
		sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "setup.sh: unknown option $arg" >&2
		exit 2
		;;
	*) CACHE=$arg ;;
	esac
done
CACHE=${CACHE:-${VDG_E2E_CACHE:-/var/cache/vdg-e2e}}
STAMPS=$CACHE/stamps
APT_UPDATED=0

# Packages the 2D and 3D images copy from the host, with their ldd closure.
HOST_PKGS_BASE="python3 cpio kmod xz-utils libdrm-tests"
HOST_PKGS_3D="libgl1-mesa-dri libegl-mesa0 libegl1 libgbm1 libgles2 libglapi-mesa kmscube glmark2-es2-drm mesa-utils"
# To build guest/gl-pattern.c on the host (host and guest share the userland).
HOST_PKGS_3D_BUILD="gcc libc6-dev pkgconf libdrm-dev libgbm-dev libegl-dev libgles-dev"
QEMU_PKGS="qemu-system-x86 qemu-system-common qemu-system-data qemu-system-gui qemu-system-modules-opengl"

log() { echo "setup: $*" >&2; }
die() {
	echo "setup: ERROR: $*" >&2
	exit 1
}

if [ "$(id -u)" != 0 ]; then
	die "must run as root (installs host packages, creates device nodes)"
fi
mkdir -p "$CACHE" "$STAMPS"

# step NAME KEY FUNCTION: run FUNCTION unless stamps/NAME holds KEY.
step() {
	local name=$1 key=$2 fn=$3 t0
	if [ -f "$STAMPS/$name" ] && [ "$(cat "$STAMPS/$name")" = "$key" ]; then
		return 0
	fi
	rm -f "$STAMPS/$name"
	log "step $name ..."
	t0=$(date +%s)
	"$fn"
	echo "$key" >"$STAMPS/$name"
	log "step $name done in $(($(date +%s) - t0)) s"
}

apt_update_once() {
	if [ "$APT_UPDATED" = 0 ]; then
		log "apt-get update"
		apt-get update -qq
		APT_UPDATED=1
	fi
}

# Install the packages that are not installed yet.
ensure_pkgs() {
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} = 0 ] && return 0
	log "installing host packages: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null; then
		apt_update_once
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null
	fi
}

# Let apt's sandbox user write into a download directory (avoids a warning).
apt_dir_for_sandbox() {
	if id _apt >/dev/null 2>&1; then chown _apt "$1"; fi
}

# Download one package (name or name=version) into the current directory.
apt_download() {
	apt_dir_for_sandbox .
	if ! apt-get download -qq "$@" 2>/dev/null; then
		apt_update_once
		apt-get download -qq "$@"
	fi
}

# --- step: host packages -----------------------------------------------------

do_host_pkgs() { ensure_pkgs $HOST_PKGS_BASE; }
do_host_pkgs_3d() { ensure_pkgs $HOST_PKGS_3D $HOST_PKGS_3D_BUILD; }

# --- step: QEMU 10 from bookworm-backports -----------------------------------

QDIR=$CACHE/qemu10
QAPT=$QDIR/apt

qapt_opts() {
	echo -o "Dir::Etc::sourceparts=$QAPT/parts" -o "Dir::Etc::sourcelist=$QAPT/sources.list" \
		-o "Dir::State::Lists=$QAPT/lists" -o "Dir::Cache=$QAPT/cache" \
		-o "Dir::State::status=/var/lib/dpkg/status"
}

do_qemu10() {
	local uri ver deps d f
	rm -rf "$QDIR"
	mkdir -p "$QAPT/parts" "$QAPT/lists/partial" "$QAPT/cache/archives/partial" "$QDIR/debs" "$QDIR/root"
	: >"$QAPT/sources.list"
	# The mirror the system already uses, in deb822 or one-line format.
	uri=""
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		cp /etc/apt/sources.list.d/debian.sources "$QAPT/parts/"
		uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	fi
	if [ -f /etc/apt/sources.list ]; then
		cp /etc/apt/sources.list "$QAPT/sources.list"
		[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
	fi
	[ -n "$uri" ] || uri=http://deb.debian.org/debian
	cat >"$QAPT/parts/e2e-backports.sources" <<-EOF
		Types: deb
		URIs: $uri
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	# shellcheck disable=SC2046
	apt-get $(qapt_opts) update -qq
	# shellcheck disable=SC2046
	ver=$(apt-cache $(qapt_opts) madison qemu-system-x86 | awk -F'|' '$2 ~ /bpo12/ {gsub(/ /, "", $2); print $2; exit}')
	[ -n "$ver" ] || die "no bookworm-backports version of qemu-system-x86 found"
	log "QEMU from backports: $ver"
	(
		cd "$QDIR/debs"
		apt_dir_for_sandbox .
		local pkgs=() p
		for p in $QEMU_PKGS; do pkgs+=("$p=$ver"); done
		# shellcheck disable=SC2046
		apt-get $(qapt_opts) download -qq "${pkgs[@]}"
	)
	for f in "$QDIR"/debs/*.deb; do dpkg -x "$f" "$QDIR/root"; done
	# Runtime libraries: the debs' Depends minus QEMU's own packages, and
	# without the version bound on seabios/ipxe-qemu (bookworm's work).
	deps=$(for f in "$QDIR"/debs/*.deb; do dpkg-deb -f "$f" Depends | tr ',' '\n'; done |
		sed 's/^ *//; s/ *$//' | grep -v '^qemu-' | grep -v '^$' |
		sed -E 's/^(seabios|ipxe-qemu) *\(.*\)/\1/; s/\| *(seabios|ipxe-qemu) *\([^)]*\)/| \1/' |
		sort -u | paste -sd, -)
	log "satisfying: $deps"
	if ! DEBIAN_FRONTEND=noninteractive apt-get satisfy -y -qq --no-install-recommends "$deps" >/dev/null; then
		apt_update_once
		DEBIAN_FRONTEND=noninteractive apt-get satisfy -y -qq --no-install-recommends "$deps" >/dev/null
	fi
	d=$QDIR/root/usr/bin/qemu-system-x86_64
	[ -x "$d" ] || die "no qemu-system-x86_64 in the extracted debs"
	if ldd "$d" | grep -q 'not found'; then
		ldd "$d" | grep 'not found' >&2
		die "QEMU 10 still misses shared libraries"
	fi
	mkdir -p "$CACHE/bin"
	cat >"$CACHE/bin/qemu-system-x86_64" <<-EOF
		#!/bin/sh
		# QEMU $ver, extracted from bookworm-backports by tests/e2e/setup.sh.
		export QEMU_MODULE_DIR=$QDIR/root/usr/lib/x86_64-linux-gnu/qemu
		exec $d -L $QDIR/root/usr/share/qemu -L /usr/share/qemu -L /usr/share/seabios "\$@"
	EOF
	chmod +x "$CACHE/bin/qemu-system-x86_64"
	"$CACHE/bin/qemu-system-x86_64" --version | head -1 >&2
	"$CACHE/bin/qemu-system-x86_64" -device help 2>/dev/null | grep -q '"vhost-user-gpu-pci"' ||
		die "QEMU 10 lacks vhost-user-gpu-pci"
}

# --- step: kernel ------------------------------------------------------------

KDIR=$CACHE/kernel

do_kernel() {
	local pkg kver vmlinuz off
	rm -rf "$KDIR"
	mkdir -p "$KDIR/debs" "$KDIR/root"
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$pkg" ] || {
		apt_update_once
		pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	}
	[ -n "$pkg" ] || die "cannot resolve linux-image-amd64"
	log "kernel package: $pkg"
	(cd "$KDIR/debs" && apt_download "$pkg")
	dpkg -x "$KDIR"/debs/*.deb "$KDIR/root"
	kver=$(ls "$KDIR/root/lib/modules" | head -1)
	[ -n "$kver" ] || die "no modules in $pkg"
	depmod -b "$KDIR/root" "$kver"
	vmlinuz=$KDIR/root/boot/vmlinuz-$kver
	# The bzImage carries an xz stream; the ELF inside boots through PVH.
	off=$(python3 - "$vmlinuz" <<-'EOF'
		import sys
		data = open(sys.argv[1], "rb").read()
		print(data.find(b"\xfd7zXZ\x00"))
	EOF
	)
	[ "$off" -ge 0 ] || die "no xz stream in $vmlinuz"
	tail -c +$((off + 1)) "$vmlinuz" | xz -dc --single-stream >"$KDIR/vmlinux" 2>/dev/null || true
	[ "$(head -c 4 "$KDIR/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
		die "decompressed kernel is not an ELF file"
	echo "$kver" >"$KDIR/kver"
	log "kernel $kver: vmlinux $(($(stat -c %s "$KDIR/vmlinux") >> 20)) MB"
}

# --- step: busybox -----------------------------------------------------------

do_busybox() {
	rm -rf "$CACHE/busybox"
	mkdir -p "$CACHE/busybox/debs" "$CACHE/busybox/root"
	(cd "$CACHE/busybox/debs" && apt_download busybox-static)
	dpkg -x "$CACHE"/busybox/debs/*.deb "$CACHE/busybox/root"
	[ -x "$CACHE/busybox/root/bin/busybox" ] || die "no busybox in busybox-static"
}

# --- initramfs ---------------------------------------------------------------

# Copy a host file and every library it needs into the staging root.
copy_with_libs() {
	local root=$1 f
	shift
	for f in "$@"; do
		if [ ! -e "$root$f" ]; then
			mkdir -p "$root$(dirname "$f")"
			cp -L "$f" "$root$f"
		fi
		copy_libs_of "$root" "$f"
	done
}

# Copy only the libraries a host file needs (its ldd closure).
copy_libs_of() {
	local root=$1 f=$2 lib
	for lib in $(ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}'); do
		if [ ! -e "$root$lib" ]; then
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		fi
	done
}

# The base every image shares: busybox, /init, modules in load order.
stage_base() {
	local root=$1 kver p ko rel
	kver=$(cat "$KDIR/kver")
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/e2e,dev,proc,sys,tmp,run,root,lib/modules}
	cp "$CACHE/busybox/root/bin/busybox" "$root/bin/busybox"
	for p in $("$root/bin/busybox" --list-full); do
		[ -e "$root/$p" ] || ln -s /bin/busybox "$root/$p"
	done
	install -m 0755 "$HERE/guest/init" "$root/init"
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
	# Modules in dependency order, as modprobe would load them.
	: >"$root/etc/e2e/modules"
	for ko in $(for m in virtio_pci virtio-gpu qemu_fw_cfg virtio_blk; do
		modprobe -d "$KDIR/root" -S "$kver" --show-depends "$m"
	done | awk '$1 == "insmod" {print $2}'); do
		rel=${ko#"$KDIR/root"}
		grep -qx "${rel%.xz}" "$root/etc/e2e/modules" && continue
		mkdir -p "$root$(dirname "$rel")"
		case "$ko" in
		*.xz) xz -dc "$ko" >"$root${rel%.xz}" ;;
		*) cp "$ko" "$root$rel" ;;
		esac
		echo "${rel%.xz}" >>"$root/etc/e2e/modules"
	done
	grep -q virtio-gpu "$root/etc/e2e/modules" || die "virtio-gpu module not found for $kver"
	echo "$kver" >"$root/etc/e2e/kver"
}

pack_cpio() {
	local root=$1 out=$2
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out.tmp"
	mv "$out.tmp" "$out"
	log "$(basename "$out"): $(($(stat -c %s "$out") >> 20)) MB"
}

do_initramfs_2d() {
	local root=$CACHE/build/initramfs-2d
	stage_base "$root"
	copy_with_libs "$root" /usr/bin/modetest
	pack_cpio "$root" "$CACHE/initramfs-2d.cpio"
}

# Our guest GL program (guest/gl-pattern.c), built against the host's Debian 12
# libraries, which the 3D image copies as they are.
build_gl_pattern() {
	local out=$1
	mkdir -p "$(dirname "$out")"
	# shellcheck disable=SC2046
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$out.tmp" "$HERE/guest/gl-pattern.c" \
		$(pkg-config --cflags --libs gbm egl glesv2 libdrm) ||
		die "cannot build guest/gl-pattern.c (needs $HOST_PKGS_3D_BUILD)"
	mv "$out.tmp" "$out"
}

do_initramfs_3d() {
	local root=$CACHE/build/initramfs-3d f glp=$CACHE/build/gl-pattern/gl-pattern
	build_gl_pattern "$glp"
	stage_base "$root"
	copy_with_libs "$root" /usr/bin/modetest /usr/bin/kmscube /usr/bin/glmark2-es2-drm /usr/bin/eglinfo
	install -m 0755 "$glp" "$root/usr/bin/gl-pattern"
	copy_libs_of "$root" "$glp"
	# Mesa: the DRI megadriver (swrast/kms_swrast are hard links to the same
	# file: copy it once and link), EGL vendor, GBM, GLES, drirc.
	local dri=/usr/lib/x86_64-linux-gnu/dri
	mkdir -p "$root$dri"
	cp -L "$dri/virtio_gpu_dri.so" "$root$dri/"
	for f in swrast_dri.so kms_swrast_dri.so; do
		[ -e "$dri/$f" ] && ln -f "$root$dri/virtio_gpu_dri.so" "$root$dri/$f"
	done
	copy_with_libs "$root" "$dri/virtio_gpu_dri.so" \
		/usr/lib/x86_64-linux-gnu/libEGL_mesa.so.0 \
		/usr/lib/x86_64-linux-gnu/libgbm.so.1 \
		/usr/lib/x86_64-linux-gnu/libglapi.so.0 \
		/usr/lib/x86_64-linux-gnu/libGLESv2.so.2
	mkdir -p "$root/usr/share/glvnd/egl_vendor.d" "$root/usr/share"
	cp /usr/share/glvnd/egl_vendor.d/50_mesa.json "$root/usr/share/glvnd/egl_vendor.d/"
	cp -a /usr/share/drirc.d "$root/usr/share/"
	cp -a /usr/share/glmark2 "$root/usr/share/"
	pack_cpio "$root" "$CACHE/initramfs-3d.cpio"
}

# --- step: shim for QEMU's reference backend in 3D mode ----------------------

do_ref_shim() {
	ensure_pkgs gcc libc6-dev
	mkdir -p "$CACHE/ref"
	gcc -shared -fPIC -O2 -Wall -o "$CACHE/ref/virgl-surfaceless-shim.so" \
		"$HERE/ref/virgl-surfaceless-shim.c" -ldl
}

# --- main --------------------------------------------------------------------

T0=$(date +%s)
# Keys: bump a key to force a step to run again. The initramfs keys include
# the hash of the guest /init and of this script.
INIT_HASH=$(cat "$HERE/guest/init" "$0" | sha256sum | cut -c1-16)
step host-pkgs "1 $HOST_PKGS_BASE" do_host_pkgs
step qemu10 "1" do_qemu10
step kernel "1" do_kernel
step busybox "1" do_busybox
step initramfs-2d "1 $INIT_HASH $(cat "$KDIR/kver")" do_initramfs_2d
if [ "$WANT_3D" = 1 ]; then
	step host-pkgs-3d "1 $HOST_PKGS_3D $HOST_PKGS_3D_BUILD" do_host_pkgs_3d
	step initramfs-3d "1 $INIT_HASH $(sha256sum <"$HERE/guest/gl-pattern.c" | cut -c1-16) $(cat "$KDIR/kver")" \
		do_initramfs_3d
	step ref-shim "1 $(sha256sum <"$HERE/ref/virgl-surfaceless-shim.c" | cut -c1-16)" do_ref_shim
fi

# Summary for run.py: plain KEY=VALUE lines.
cat >"$CACHE/e2e.env.tmp" <<EOF
QEMU=$CACHE/bin/qemu-system-x86_64
KERNEL=$KDIR/vmlinux
KVER=$(cat "$KDIR/kver")
INITRAMFS_2D=$CACHE/initramfs-2d.cpio
EOF
[ -f "$CACHE/initramfs-3d.cpio" ] && [ -f "$STAMPS/initramfs-3d" ] &&
	echo "INITRAMFS_3D=$CACHE/initramfs-3d.cpio" >>"$CACHE/e2e.env.tmp"
[ -f "$STAMPS/ref-shim" ] &&
	echo "REF_SHIM=$CACHE/ref/virgl-surfaceless-shim.so" >>"$CACHE/e2e.env.tmp"
mv "$CACHE/e2e.env.tmp" "$CACHE/e2e.env"
log "cache ready in $CACHE ($(($(date +%s) - T0)) s)"
