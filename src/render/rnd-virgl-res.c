/* SPDX-License-Identifier: MIT */
/*
 * virglrenderer backend, resources: creation (2D resources are virgl
 * textures too), the iovec arrays virglrenderer borrows for the backing
 * (rebuilt after every memory-table change), transfers, and reading the
 * scanout and the cursor back for the display (readback path).
 */
#include "rnd-virgl-priv.h"

#include <endian.h>
#include <pixman.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_gpu.h>

#include "checked.h"
#include "log.h"

/* ---- resources ---- */

static void res_detach_iov(uint32_t id, struct virgl_res *res)
{
	struct iovec *iov = NULL;
	int n = 0;

	if (res->iov) {
		virgl_renderer_resource_detach_iov((int)id, &iov, &n);
		free(res->iov);
		res->iov = NULL;
		res->niov = 0;
	}
}

static int res_insert(struct rnd_virgl *vr, uint32_t id, uint32_t format, uint32_t width,
	uint32_t height)
{
	struct virgl_res *res = calloc(1, sizeof(*res));
	int r;

	if (!res) {
		return -ENOMEM;
	}
	res->format = format;
	res->width = width;
	res->height = height;
	r = id_table_insert(&vr->resources, id, res);
	if (r < 0) {
		free(res);
	}
	return r;
}

static int create(struct rnd_virgl *vr, struct virgl_renderer_resource_create_args *args)
{
	int r;

	virgl_renderer_force_ctx_0();
	r = virgl_errno(virgl_renderer_resource_create(args, NULL, 0));
	if (r < 0) {
		return r;
	}
	r = res_insert(vr, args->handle, args->format, args->width, args->height);
	if (r < 0) {
		virgl_renderer_resource_unref(args->handle);
	}
	return r;
}

int virgl_resource_create_2d(struct rnd_renderer *base, const struct rnd_create_2d *a)
{
	/*
	 * virglrenderer 0.10.4 on GLES emulates A8B8G8R8 and reads it back
	 * wrong (the last row comes back shifted): refuse it, as it refuses the
	 * other formats GLES lacks, rather than show wrong pixels.
	 */
	if (virgl_from_base(base)->gles && a->format == VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM) {
		return -EINVAL;
	}
	struct virgl_renderer_resource_create_args args = {
		.handle = a->resource_id,
		.target = VIRGL_TARGET_TEXTURE_2D,
		.format = a->format, /* 2D virtio formats are virgl format numbers */
		.bind = VIRGL_BIND_RENDER_TARGET,
		.width = a->width,
		.height = a->height,
		.depth = 1,
		.array_size = 1,
		.flags = VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP,
	};

	return create(virgl_from_base(base), &args);
}

int virgl_resource_create_3d(struct rnd_renderer *base, const struct rnd_create_3d *a)
{
	struct virgl_renderer_resource_create_args args = {
		.handle = a->resource_id,
		.target = a->target,
		.format = a->format,
		.bind = a->bind,
		.width = a->width,
		.height = a->height,
		.depth = a->depth,
		.array_size = a->array_size,
		.last_level = a->last_level,
		.nr_samples = a->nr_samples,
		.flags = a->flags,
	};

	return create(virgl_from_base(base), &args);
}

void virgl_resource_destroy(struct rnd_renderer *base, uint32_t id)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_remove(&vr->resources, id);

	if (!res) {
		return;
	}
	virgl_renderer_force_ctx_0();
	res_detach_iov(id, res);
	virgl_renderer_resource_unref(id);
	free(res);
}

/* Host iovecs for the backing, translated now; entries may straddle regions. */
static int backing_to_iov(const struct rnd_backing *b, struct iovec **ret_iov, int *ret_n)
{
	size_t cap = b->n ? b->n : 1, n = 0;
	struct iovec *iov = malloc(cap * sizeof(*iov));

	if (!iov) {
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < b->n; i++) {
		uint64_t gpa = b->entries[i].gpa, left = b->entries[i].len;

		while (left > 0) {
			uint64_t contig;
			void *host = vu_mem_translate(b->mem, VU_ADDR_GPA, gpa, left, &contig);

			if (!host) {
				free(iov);
				return -EFAULT;
			}
			if (n == cap) {
				struct iovec *bigger = realloc(iov, cap * 2 * sizeof(*iov));

				if (!bigger) {
					free(iov);
					return -ENOMEM;
				}
				iov = bigger;
				cap *= 2;
			}
			iov[n++] = (struct iovec){ host, (size_t)contig };
			gpa += contig;
			left -= contig;
		}
	}
	*ret_iov = iov;
	*ret_n = (int)n;
	return 0;
}

int virgl_attach_backing(struct rnd_renderer *base, uint32_t id,
	const struct rnd_backing *backing)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_lookup(&vr->resources, id);
	struct iovec *iov;
	int n, r;

	if (!res) {
		return -EINVAL;
	}
	virgl_renderer_force_ctx_0();
	res_detach_iov(id, res);
	r = backing_to_iov(backing, &iov, &n);
	if (r < 0) {
		return r;
	}
	r = virgl_errno(virgl_renderer_resource_attach_iov((int)id, iov, n));
	if (r < 0) {
		free(iov);
		return r;
	}
	res->iov = iov;
	res->niov = n;
	return 0;
}

void virgl_detach_backing(struct rnd_renderer *base, uint32_t id)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_lookup(&vr->resources, id);

	if (res) {
		virgl_renderer_force_ctx_0();
		res_detach_iov(id, res);
	}
}

int virgl_transfer_to_host_2d(struct rnd_renderer *base, uint32_t id,
	const struct rnd_rect *rect, uint64_t offset, const struct rnd_backing *backing)
{
	struct virtio_gpu_box box = { rect->x, rect->y, 0, rect->width, rect->height, 1 };

	virgl_renderer_force_ctx_0();
	/* the attached iovecs are the backing; ctx 0 is the 2D path */
	return virgl_errno(virgl_renderer_transfer_write_iov(id, 0, 0, 0, 0,
		(struct virgl_box *)&box, offset, NULL, 0));
}

int virgl_transfer_3d(struct rnd_renderer *base, const struct rnd_transfer_3d *t)
{
	struct virtio_gpu_box box = { t->x, t->y, t->z, t->w, t->h, t->d };

	virgl_renderer_force_ctx_0();
	if (t->to_host) {
		return virgl_errno(virgl_renderer_transfer_write_iov(t->resource_id, t->ctx_id,
			(int)t->level, t->stride, t->layer_stride, (struct virgl_box *)&box,
			t->offset, NULL, 0));
	}
	return virgl_errno(virgl_renderer_transfer_read_iov(t->resource_id, t->ctx_id, t->level,
		t->stride, t->layer_stride, (struct virgl_box *)&box, t->offset, NULL, 0));
}

/*
 * Reads rect of a resource back from its GL texture into scratch memory, in
 * the resource's own format, tightly packed. The buffer is zeroed first:
 * virglrenderer 0.10.4 on GLES does not fill it for every format, and stale
 * heap bytes must never reach the display.
 */
static int read_back(struct rnd_virgl *vr, uint32_t id, const struct rnd_rect *rect,
	size_t extra, uint8_t **ret)
{
	struct virtio_gpu_box box = { rect->x, rect->y, 0, rect->width, rect->height, 1 };
	size_t stride = (size_t)rect->width * 4, size = stride * rect->height;
	struct iovec iov;
	int r;

	r = rnd_scratch_reserve(&vr->scratch, size + extra + 4);
	if (r < 0) {
		return r;
	}
	memset(vr->scratch.data, 0, size);
	iov = (struct iovec){ vr->scratch.data, size };
	virgl_renderer_force_ctx_0();
	r = virgl_errno(virgl_renderer_transfer_read_iov(id, 0, 0, (uint32_t)stride, 0,
		(struct virgl_box *)&box, 0, &iov, 1));
	*ret = vr->scratch.data;
	return r;
}

/* Converts a tightly packed rect from one pixman format into another buffer. */
static int convert(pixman_format_code_t from, void *src, pixman_format_code_t to, void *dst,
	uint32_t width, uint32_t height)
{
	pixman_image_t *s = pixman_image_create_bits(from, (int)width, (int)height, src,
		(int)width * 4);
	pixman_image_t *d = pixman_image_create_bits(to, (int)width, (int)height, dst,
		(int)width * 4);
	int r = (s && d) ? 0 : -ENOMEM;

	if (r == 0) {
		pixman_image_composite32(PIXMAN_OP_SRC, s, NULL, d, 0, 0, 0, 0, 0, 0,
			(int32_t)width, (int32_t)height);
	}
	if (s) {
		pixman_image_unref(s);
	}
	if (d) {
		pixman_image_unref(d);
	}
	return r;
}

/* Reads the rect back from the GL texture: the display path when nothing is exported. */
int virgl_read_pixels(struct rnd_renderer *base, uint32_t id, const struct rnd_rect *rect,
	struct rnd_pixels *ret)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_lookup(&vr->resources, id);
	size_t size = (size_t)rect->width * 4 * rect->height;
	pixman_format_code_t fmt;
	uint8_t *pixels;
	int r;

	if (!res || !rect_within(rect->x, rect->y, rect->width, rect->height, res->width,
			    res->height)) {
		return -EINVAL;
	}
	fmt = rnd_pixman_format(res->format);
	if (!fmt) {
		return -EOPNOTSUPP; /* not a format a display can show */
	}
	/* room for the conversion behind the readback */
	r = read_back(vr, id, rect, size, &pixels);
	if (r < 0) {
		return r;
	}
	ret->data = pixels;
	ret->stride = rect->width * 4;
	ret->stable = false;
	if (fmt != PIXMAN_x8r8g8b8 && fmt != PIXMAN_a8r8g8b8 && size > 0) {
		r = convert(fmt, pixels, PIXMAN_x8r8g8b8, pixels + size, rect->width, rect->height);
		if (r < 0) {
			return r;
		}
		ret->data = pixels + size;
	}
	return 0;
}

/*
 * The cursor image, read back like a scanout. virgl_renderer_get_cursor_data()
 * is not used: on a GLES host it returns red and blue swapped.
 */
int virgl_cursor_image(struct rnd_renderer *base, uint32_t id, uint32_t *ret_argb,
	uint32_t width, uint32_t height)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_lookup(&vr->resources, id);
	struct rnd_rect rect = { 0, 0, width, height };
	pixman_format_code_t fmt;
	uint8_t *pixels;
	int r;

	if (!res || res->width != width || res->height != height) {
		return -EINVAL;
	}
	fmt = rnd_pixman_format(res->format);
	if (!fmt) {
		return -EINVAL;
	}
	r = read_back(vr, id, &rect, 0, &pixels);
	if (r < 0) {
		return r;
	}
	return convert(fmt, pixels, PIXMAN_a8r8g8b8, ret_argb, width, height);
}

void virgl_free_all_resources(struct rnd_virgl *vr)
{
	size_t iter = 0;
	uint32_t id;
	void *value;

	while (id_table_next(&vr->resources, &iter, &id, &value)) {
		struct virgl_res *res = value;

		res_detach_iov(id, res);
		virgl_renderer_resource_unref(id);
		free(res);
	}
	id_table_finish(&vr->resources);
}
