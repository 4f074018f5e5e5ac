/* SPDX-License-Identifier: MIT */
/*
 * bench-3d-latency: SUBMIT_3D + fence round trip against a vhost-user GPU
 * back-end in 3D (virgl) mode, through the test front-end (tools/vdg-frontend).
 *
 *   bench-3d-latency --socket PATH [--iters N] [--warmup N] [--cpu N] [--samples FILE]
 *                    [--blocking]
 *
 * Negotiates VIRTIO_GPU_F_VIRGL, CTX_CREATE (ctx 1), then one SUBMIT_3D with
 * VIRGL_CCMD_CREATE_SUB_CTX(1). Timed loop: SUBMIT_3D with
 * VIRGL_CCMD_SET_SUB_CTX(1), VIRGL_CCMD_SET_SUB_CTX(0) (16 bytes, two real
 * context switches in the host renderer) with VIRTIO_GPU_FLAG_FENCE and a new
 * fence id each time; one iteration ends when the response (which a back-end
 * may only write once the fence has signalled) is in the used ring. The
 * front-end spins (no sleeping) while it waits, as bench.md recommends.
 *
 * --blocking waits for the response in poll() on the call eventfd, as a
 * guest waits for its interrupt, instead of spinning on the used ring.
 *
 * --samples FILE writes every timed round trip (µs, in order, one per line),
 * to look at the tail.
 *
 * Prints one line:
 *   BENCH-3D-LATENCY n=N median_us=X p99_us=Y min_us=Z max_us=W
 * Exit status 0, or 1 with a message on stderr.
 *
 * Command encodings from virglrenderer 0.10.4 src/virgl_protocol.h:
 * VIRGL_CMD0(cmd, obj, len) = cmd | obj << 8 | len << 16 (len in dwords after
 * the header); VIRGL_CCMD_SET_SUB_CTX = 28, VIRGL_CCMD_CREATE_SUB_CTX = 29,
 * VIRGL_CCMD_DESTROY_SUB_CTX = 30, each with one dword (the sub-context id).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/virtio_gpu.h>

#include "frontend.h"
#include "gpu-driver.h"

#define CMD0(cmd, obj, len) ((uint32_t)(cmd) | ((uint32_t)(obj) << 8) | ((uint32_t)(len) << 16))
#define CCMD_SET_SUB_CTX 28
#define CCMD_CREATE_SUB_CTX 29
#define CCMD_DESTROY_SUB_CTX 30

#define CTX_ID 1

struct submit {
	struct virtio_gpu_cmd_submit hdr;
	uint32_t cmds[4];
};

static uint64_t g_fence;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int submit3d(struct vdgfe *fe, const uint32_t *cmds, unsigned int ndw, bool fence)
{
	struct submit req;

	memset(&req, 0, sizeof(req));
	req.hdr.hdr.type = htole32(VIRTIO_GPU_CMD_SUBMIT_3D);
	req.hdr.hdr.ctx_id = htole32(CTX_ID);
	if (fence) {
		req.hdr.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		req.hdr.hdr.fence_id = htole64(++g_fence);
	}
	req.hdr.size = htole32(ndw * 4);
	for (unsigned int i = 0; i < ndw; i++) {
		req.cmds[i] = htole32(cmds[i]);
	}
	return vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req.hdr) + ndw * 4, NULL, 0, NULL);
}

static int ctx_cmd(struct vdgfe *fe, uint32_t type)
{
	struct virtio_gpu_ctx_create req;
	static const char name[] = "bench-3d";

	memset(&req, 0, sizeof(req));
	req.hdr.type = htole32(type);
	req.hdr.ctx_id = htole32(CTX_ID);
	if (type == VIRTIO_GPU_CMD_CTX_CREATE) {
		req.nlen = htole32(sizeof(name) - 1);
		memcpy(req.debug_name, name, sizeof(name) - 1);
		return vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req), NULL, 0, NULL);
	}
	return vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req.hdr), NULL, 0, NULL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void fail(const char *what, int r)
{
	if (r < 0) {
		fprintf(stderr, "bench-3d-latency: %s: %s\n", what, strerror(-r));
	} else {
		fprintf(stderr, "bench-3d-latency: %s: response 0x%x\n", what, (unsigned int)r);
	}
	exit(1);
}

int main(int argc, char **argv)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	const char *sock = NULL, *samples = NULL;
	long iters = 5000, warmup = 500;
	int cpu = -1, r;
	bool blocking = false;
	double *lat;
	const uint32_t create[] = {CMD0(CCMD_CREATE_SUB_CTX, 0, 1), 1};
	const uint32_t loop[] = {CMD0(CCMD_SET_SUB_CTX, 0, 1), 1, CMD0(CCMD_SET_SUB_CTX, 0, 1), 0};
	const uint32_t destroy[] = {CMD0(CCMD_DESTROY_SUB_CTX, 0, 1), 1};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
			iters = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) {
			warmup = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--cpu") && i + 1 < argc) {
			cpu = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--samples") && i + 1 < argc) {
			samples = argv[++i];
		} else if (!strcmp(argv[i], "--blocking")) {
			blocking = true;
		} else {
			fprintf(stderr, "usage: %s --socket PATH [--iters N] [--warmup N] [--cpu N] "
				"[--samples FILE] [--blocking]\n", argv[0]);
			return 2;
		}
	}
	if (!sock || iters < 1 || warmup < 0) {
		fprintf(stderr, "bench-3d-latency: --socket is required, --iters >= 1\n");
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "bench-3d-latency: sched_setaffinity(%d): %s\n", cpu,
				strerror(errno));
			return 1;
		}
	}
	lat = calloc((size_t)iters, sizeof(*lat));
	if (!lat) {
		return 1;
	}

	vdgfe_config_init(&cfg);
	cfg.socket_path = sock;
	cfg.want_virgl = true;
	cfg.spin = !blocking;
	cfg.timeout_ms = 10000;
	fe = vdgfe_create(&cfg);
	if (!fe) {
		fail("connect", -errno);
	}
	r = vdgfe_negotiate(fe);
	if (r < 0) {
		fail("negotiate", r);
	}
	if (!(fe->backend_features & VU_BIT(VDGFE_GPU_F_VIRGL))) {
		fprintf(stderr, "bench-3d-latency: the back-end does not offer VIRTIO_GPU_F_VIRGL\n");
		return 1;
	}
	r = vdgfe_start(fe);
	if (r < 0) {
		fail("start", r);
	}
	r = ctx_cmd(fe, VIRTIO_GPU_CMD_CTX_CREATE);
	if (r != VIRTIO_GPU_RESP_OK_NODATA) {
		fail("CTX_CREATE", r);
	}
	r = submit3d(fe, create, 2, true);
	if (r != VIRTIO_GPU_RESP_OK_NODATA) {
		fail("SUBMIT_3D (CREATE_SUB_CTX)", r);
	}
	for (long i = 0; i < warmup + iters; i++) {
		double t0 = now_us();

		r = submit3d(fe, loop, 4, true);
		if (r != VIRTIO_GPU_RESP_OK_NODATA) {
			fail("SUBMIT_3D (SET_SUB_CTX)", r);
		}
		if (i >= warmup) {
			lat[i - warmup] = now_us() - t0;
		}
	}
	r = submit3d(fe, destroy, 2, true);
	if (r != VIRTIO_GPU_RESP_OK_NODATA) {
		fail("SUBMIT_3D (DESTROY_SUB_CTX)", r);
	}
	r = ctx_cmd(fe, VIRTIO_GPU_CMD_CTX_DESTROY);
	if (r != VIRTIO_GPU_RESP_OK_NODATA) {
		fail("CTX_DESTROY", r);
	}

	if (samples) {
		FILE *f = fopen(samples, "w");

		if (!f) {
			fprintf(stderr, "bench-3d-latency: %s: %s\n", samples, strerror(errno));
			return 1;
		}
		for (long i = 0; i < iters; i++) {
			fprintf(f, "%.2f\n", lat[i]);
		}
		fclose(f);
	}
	qsort(lat, (size_t)iters, sizeof(*lat), cmp_double);
	printf("BENCH-3D-LATENCY n=%ld median_us=%.1f p99_us=%.1f min_us=%.1f max_us=%.1f\n", iters,
		lat[iters / 2], lat[(size_t)((iters - 1) * 0.99)], lat[0], lat[iters - 1]);
	fflush(stdout);
	vdgfe_stop(fe, true, NULL);
	vdgfe_destroy(fe);
	free(lat);
	return 0;
}
