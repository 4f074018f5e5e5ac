/* SPDX-License-Identifier: MIT */
/*
 * vdg-dmabuf-test-daemon: the real daemon (same options, same device, same
 * display channel) with a renderer that can export its resources, so the
 * dma-buf scanout path can be tested on a host without a render node.
 *
 * The renderer is the 2D pixman one with export_dmabuf added: an exported
 * resource gets a memfd mirror of its pixels (x8r8g8b8, linear) that every
 * transfer keeps up to date, standing in for the texture memory a GPU
 * driver would share. The frontend side of a test can mmap the fd it
 * receives and look at the pixels. Nothing here is built into the real
 * daemon; --scanout-mode readback turns the export off.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon.h"
#include "id-table.h"
#include "log.h"

/* DRM_FORMAT_XRGB8888 ('XR24'): bytes B, G, R, X, as our x8r8g8b8 pixels. */
#define TEST_FOURCC_XRGB8888 0x34325258u
#define TEST_MOD_LINEAR 0
/* one entry per resource, as many as the device allows (GPU_MAX_RESOURCES) */
#define TEST_MAX_MIRRORS 16384

/* A resource's size, and its memfd mirror once exported (memfd -1 before). */
struct mirror {
	int memfd;
	uint8_t *map;
	size_t size;
	uint32_t width, height;
};

struct exporting {
	struct rnd_renderer base;
	struct rnd_renderer *inner; /* pixman */
	struct id_table mirrors;    /* resource id -> struct mirror */
};

static struct exporting *from_base(struct rnd_renderer *r)
{
	return (struct exporting *)r;
}

static void mirror_free(struct mirror *m)
{
	if (m) {
		if (m->memfd >= 0) {
			munmap(m->map, m->size);
			close(m->memfd);
		}
		free(m);
	}
}

/* Copies rect of the resource's pixels into its mirror, if it has one. */
static int mirror_update(struct exporting *e, uint32_t id, const struct rnd_rect *rect)
{
	struct mirror *m = id_table_lookup(&e->mirrors, id);
	struct rnd_pixels px;
	int r;

	if (!m || m->memfd < 0) {
		return 0;
	}
	r = rnd_read_pixels(e->inner, id, rect, &px);
	if (r < 0) {
		return r;
	}
	for (uint32_t y = 0; y < rect->height; y++) {
		memcpy(m->map + ((size_t)(rect->y + y) * m->width + rect->x) * 4,
			px.data + (size_t)y * px.stride, (size_t)rect->width * 4);
	}
	return 0;
}

static void exp_destroy(struct rnd_renderer *r)
{
	struct exporting *e = from_base(r);
	size_t iter = 0;
	uint32_t id;
	void *m;

	while (id_table_next(&e->mirrors, &iter, &id, &m)) {
		mirror_free(m);
	}
	id_table_finish(&e->mirrors);
	rnd_destroy(e->inner);
	free(e);
}

static int exp_create_2d(struct rnd_renderer *r, const struct rnd_create_2d *args)
{
	struct exporting *e = from_base(r);
	struct mirror *m = calloc(1, sizeof(*m));
	int ret;

	if (!m) {
		return -ENOMEM;
	}
	m->memfd = -1;
	m->width = args->width;
	m->height = args->height;
	ret = id_table_insert(&e->mirrors, args->resource_id, m);
	if (ret < 0) {
		free(m);
		return ret;
	}
	ret = rnd_resource_create_2d(e->inner, args);
	if (ret < 0) {
		free(id_table_remove(&e->mirrors, args->resource_id));
	}
	return ret;
}

static void exp_resource_destroy(struct rnd_renderer *r, uint32_t id)
{
	struct exporting *e = from_base(r);

	mirror_free(id_table_remove(&e->mirrors, id));
	rnd_resource_destroy(e->inner, id);
}

static int exp_transfer(struct rnd_renderer *r, uint32_t id, const struct rnd_rect *rect,
	uint64_t offset, const struct rnd_backing *backing)
{
	struct exporting *e = from_base(r);
	int ret = rnd_transfer_to_host_2d(e->inner, id, rect, offset, backing);

	return ret < 0 ? ret : mirror_update(e, id, rect);
}

static int exp_read_pixels(struct rnd_renderer *r, uint32_t id, const struct rnd_rect *rect,
	struct rnd_pixels *px)
{
	return rnd_read_pixels(from_base(r)->inner, id, rect, px);
}

static int exp_cursor_image(struct rnd_renderer *r, uint32_t id, uint32_t *argb, uint32_t w,
	uint32_t h)
{
	return rnd_cursor_image(from_base(r)->inner, id, argb, w, h);
}

static int exp_export(struct rnd_renderer *r, uint32_t id, struct rnd_dmabuf *out)
{
	struct exporting *e = from_base(r);
	struct mirror *m = id_table_lookup(&e->mirrors, id);

	if (!m) {
		return -EINVAL;
	}
	if (m->memfd < 0) {
		m->size = (size_t)m->width * m->height * 4;
		m->memfd = memfd_create("vdg-test-dmabuf", MFD_CLOEXEC);
		if (m->memfd < 0) {
			return -errno;
		}
		m->map = MAP_FAILED;
		if (ftruncate(m->memfd, (off_t)m->size) == 0) {
			m->map = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->memfd, 0);
		}
		if (m->map == MAP_FAILED) {
			close(m->memfd);
			m->memfd = -1;
			return -ENOMEM;
		}
		mirror_update(e, id, &(struct rnd_rect){ 0, 0, m->width, m->height });
	}
	*out = (struct rnd_dmabuf){
		.fd = dup(m->memfd),
		.width = m->width,
		.height = m->height,
		.stride = m->width * 4,
		.drm_fourcc = TEST_FOURCC_XRGB8888,
		.modifier = TEST_MOD_LINEAR,
		.y0_top = false,
	};
	return out->fd < 0 ? -errno : 0;
}

static const struct rnd_ops exporting_ops = {
	.name = "2d (pixman) + test dma-buf export",
	.destroy = exp_destroy,
	.resource_create_2d = exp_create_2d,
	.resource_destroy = exp_resource_destroy,
	.transfer_to_host_2d = exp_transfer,
	.read_pixels = exp_read_pixels,
	.cursor_image = exp_cursor_image,
	.export_dmabuf = exp_export,
};

static struct rnd_renderer *create_exporting(struct event_loop *loop,
	const struct vdg_options *opts)
{
	struct exporting *e;

	if (opts->gpu_mode != VDG_GPU_MODE_2D || opts->scanout_mode == VDG_SCANOUT_READBACK) {
		return vdg_create_renderer(loop, opts);
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		return NULL;
	}
	e->inner = rnd_pixman_create();
	if (!e->inner) {
		free(e);
		return NULL;
	}
	id_table_init(&e->mirrors, TEST_MAX_MIRRORS);
	rnd_init(&e->base, &exporting_ops);
	log_info("test renderer: resources exported as memfd 'dma-bufs'");
	return &e->base;
}

int main(int argc, char **argv)
{
	return vdg_daemon_main(argc, argv, create_exporting);
}
