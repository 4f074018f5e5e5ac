/* SPDX-License-Identifier: MIT */
/*
 * Command line: the options of the reference vhost-device-gpu man page plus
 * QEMU's backend-program conventions (--fd, --print-capabilities,
 * --render-node, --virgl), cross-checked into one validated struct that is
 * passed to constructors; nothing deeper reads argv or globals.
 */
#ifndef VDG_OPTIONS_H
#define VDG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

enum vdg_gpu_mode {
	VDG_GPU_MODE_2D,
	VDG_GPU_MODE_VIRGLRENDERER,
	VDG_GPU_MODE_GFXSTREAM,
};

/* How 3D scanouts reach the frontend (--scanout-mode). */
enum vdg_scanout_mode {
	VDG_SCANOUT_AUTO,     /* dma-buf if the GL stack can export one, else readback */
	VDG_SCANOUT_DMABUF,   /* dma-buf or fail at start-up */
	VDG_SCANOUT_READBACK, /* copy pixels out and send them (SCANOUT + UPDATE) */
};

/* Capset ids as virtio-gpu / rutabaga number them. */
#define VDG_CAPSET_VIRGL 1
#define VDG_CAPSET_VIRGL2 2
#define VDG_CAPSET_GFXSTREAM_VULKAN 3
#define VDG_CAPSET_GFXSTREAM_GLES 7
#define VDG_CAPSET_MASK(id) (UINT32_C(1) << (id))

#define VDG_DEFAULT_SOCKET_PATH "/tmp/vhost-device-gpu.sock"

struct vdg_options {
	const char *socket_path; /* NULL with --fd */
	int fd;                  /* --fd, or -1 */
	enum vdg_gpu_mode gpu_mode;
	uint32_t capsets; /* VDG_CAPSET_MASK() bits; defaults to all of the mode */
	bool use_egl;
	bool use_glx;
	bool use_gles;
	bool use_surfaceless;
	const char *render_node; /* --render-node / --gpu-device, or NULL */
	bool headless;
	enum vdg_scanout_mode scanout_mode;
	enum log_level log_level;
};

enum vdg_options_result {
	VDG_OPTIONS_RUN = 0,   /* start the daemon */
	VDG_OPTIONS_EXIT = 1,  /* --help, --version, --print-capabilities: printed, exit 0 */
	VDG_OPTIONS_ERROR = 2, /* err holds one line naming the option; exit status 2 */
};

/*
 * Parses argv and the RUST_LOG value (may be NULL). Output for --help and
 * friends goes to out. Never exits the process.
 */
enum vdg_options_result vdg_options_parse(int argc, char **argv, const char *rust_log,
	struct vdg_options *opts, FILE *out, char *err, size_t err_len);

const char *vdg_gpu_mode_name(enum vdg_gpu_mode mode);
const char *vdg_scanout_mode_name(enum vdg_scanout_mode mode);
/* Writes "virgl, virgl2" style names of a capset mask. */
void vdg_capsets_format(uint32_t capsets, char *buf, size_t len);

#endif /* VDG_OPTIONS_H */
