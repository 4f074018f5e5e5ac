/*
 * LD_PRELOAD shim for QEMU's reference backend (/usr/lib/qemu/vhost-user-gpu
 * --virgl) on a host without a DRM render node. Test-only.
 *
 * - virgl_renderer_init(): adds VIRGL_RENDERER_USE_SURFACELESS (1 << 3) to
 *   the flags, so virglrenderer uses surfaceless EGL instead of GBM.
 * - virgl_renderer_get_fd_for_texture{,2}(): fail with -1. Surfaceless
 *   llvmpipe cannot export dma-bufs (the real call jumps to NULL); failing
 *   makes the backend reject the 3D scanout cleanly and keep rendering.
 *
 * Build: gcc -shared -fPIC -O2 -o virgl-surfaceless-shim.so virgl-surfaceless-shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

#define SHIM_USE_SURFACELESS (1 << 3)

typedef int (*init_fn)(void *cookie, int flags, void *callbacks);

int virgl_renderer_init(void *cookie, int flags, void *callbacks)
{
	init_fn real = (init_fn)dlsym(RTLD_NEXT, "virgl_renderer_init");

	if (!real) {
		fprintf(stderr, "virgl-surfaceless-shim: no virgl_renderer_init to wrap\n");
		return -1;
	}
	fprintf(stderr, "virgl-surfaceless-shim: init flags 0x%x -> 0x%x\n", flags,
		flags | SHIM_USE_SURFACELESS);
	return real(cookie, flags | SHIM_USE_SURFACELESS, callbacks);
}

int virgl_renderer_get_fd_for_texture(uint32_t tex_id, int *fd)
{
	(void)tex_id;
	if (fd) {
		*fd = -1;
	}
	return -1;
}

int virgl_renderer_get_fd_for_texture2(uint32_t tex_id, int *fd, int *stride, int *offset)
{
	(void)tex_id;
	(void)stride;
	(void)offset;
	if (fd) {
		*fd = -1;
	}
	return -1;
}
