/* SPDX-License-Identifier: MIT */
/*
 * The 2d renderer: each resource is a pixman image in host memory. The two
 * formats Linux guests use (B8G8R8X8/A8) already have the byte order of the
 * display protocol, so flushes send straight from the image; other formats
 * are converted with pixman into a scratch image.
 */
#include <endian.h>
#include <errno.h>
#include <pixman.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_gpu.h>

#include "checked.h"
#include "id-table.h"
#include "log.h"
#include "render-util.h"
#include "renderer.h"

/* The device layer limits the count; this table only has to hold what it allows. */
#define PIXMAN_MAX_RESOURCES (1u << 20)

struct pixman_res {
	pixman_image_t *image;
	uint8_t *data;
	uint32_t format;
	uint32_t width;
	uint32_t height;
	uint32_t stride;
	bool is_xrgb; /* bytes already B,G,R,X: no conversion for the display */
};

struct rnd_pixman {
	struct rnd_renderer base; /* first: the interface */
	struct id_table resources;
	struct rnd_scratch scratch;
};

static const struct rnd_ops pixman_ops;

static struct rnd_pixman *pixman_from_base(struct rnd_renderer *r)
{
	return r->ops == &pixman_ops ? (struct rnd_pixman *)r : NULL;
}

static void res_free(struct pixman_res *res)
{
	if (!res) {
		return;
	}
	if (res->image) {
		pixman_image_unref(res->image);
	}
	free(res->data);
	free(res);
}

static int pixman_resource_create_2d(struct rnd_renderer *base, const struct rnd_create_2d *args)
{
	struct rnd_pixman *pr = pixman_from_base(base);
	pixman_format_code_t fmt = rnd_pixman_format(args->format);
	struct pixman_res *res;
	uint64_t size;
	int r;

	if (!fmt || !checked_mul_u64(args->stride, args->height, &size) || size > SIZE_MAX) {
		return -EINVAL;
	}
	res = calloc(1, sizeof(*res));
	if (!res) {
		return -ENOMEM;
	}
	/* calloc of a large block maps zero pages: host memory is used only once written */
	res->data = calloc(1, (size_t)size);
	if (!res->data) {
		free(res);
		return -ENOMEM;
	}
	res->image = pixman_image_create_bits(fmt, (int)args->width, (int)args->height,
		(uint32_t *)res->data, (int)args->stride);
	if (!res->image) {
		res_free(res);
		return -ENOMEM;
	}
	res->format = args->format;
	res->width = args->width;
	res->height = args->height;
	res->stride = args->stride;
	res->is_xrgb = fmt == PIXMAN_x8r8g8b8 || fmt == PIXMAN_a8r8g8b8;
	r = id_table_insert(&pr->resources, args->resource_id, res);
	if (r < 0) {
		res_free(res);
		return r;
	}
	return 0;
}

static void pixman_resource_destroy(struct rnd_renderer *base, uint32_t resource_id)
{
	struct rnd_pixman *pr = pixman_from_base(base);

	res_free(id_table_remove(&pr->resources, resource_id));
}

static int pixman_transfer_to_host_2d(struct rnd_renderer *base, uint32_t resource_id,
	const struct rnd_rect *rect, uint64_t offset, const struct rnd_backing *backing)
{
	struct rnd_pixman *pr = pixman_from_base(base);
	struct pixman_res *res = id_table_lookup(&pr->resources, resource_id);
	const uint32_t bpp = 4;
	uint8_t *dst;
	uint64_t row_bytes;

	if (!res || !rect_within(rect->x, rect->y, rect->width, rect->height, res->width,
			    res->height)) {
		return -EINVAL;
	}
	if (rect->width == 0 || rect->height == 0) {
		return 0;
	}
	dst = res->data + (size_t)rect->y * res->stride + (size_t)rect->x * bpp;
	row_bytes = (uint64_t)rect->width * bpp;
	if (rect->x == 0 && row_bytes == res->stride) {
		/* whole rows: one copy for the entire rect */
		return rnd_backing_read(backing, offset, dst, (size_t)row_bytes * rect->height);
	}
	for (uint32_t row = 0; row < rect->height; row++) {
		int r = rnd_backing_read(backing, offset + (uint64_t)row * res->stride,
			dst + (size_t)row * res->stride, (size_t)row_bytes);

		if (r < 0) {
			return r;
		}
	}
	return 0;
}

/* Converts rect of res into a dst_fmt buffer of the given stride. */
static int convert_rect(struct pixman_res *res, const struct rnd_rect *rect,
	pixman_format_code_t dst_fmt, void *dst, uint32_t dst_stride)
{
	pixman_image_t *img = pixman_image_create_bits(dst_fmt, (int)rect->width,
		(int)rect->height, dst, (int)dst_stride);

	if (!img) {
		return -ENOMEM;
	}
	pixman_image_composite32(PIXMAN_OP_SRC, res->image, NULL, img, (int32_t)rect->x,
		(int32_t)rect->y, 0, 0, 0, 0, (int32_t)rect->width, (int32_t)rect->height);
	pixman_image_unref(img);
	return 0;
}

static int pixman_read_pixels(struct rnd_renderer *base, uint32_t resource_id,
	const struct rnd_rect *rect, struct rnd_pixels *ret_pixels)
{
	struct rnd_pixman *pr = pixman_from_base(base);
	struct pixman_res *res = id_table_lookup(&pr->resources, resource_id);
	size_t stride, size;
	int r;

	if (!res || !rect_within(rect->x, rect->y, rect->width, rect->height, res->width,
			    res->height)) {
		return -EINVAL;
	}
	if (res->is_xrgb) {
		ret_pixels->data = res->data + (size_t)rect->y * res->stride + (size_t)rect->x * 4;
		ret_pixels->stride = res->stride;
		ret_pixels->stable = true;
		return 0;
	}
	stride = (size_t)rect->width * 4;
	size = stride * rect->height;
	r = rnd_scratch_reserve(&pr->scratch, size ? size : 4);
	if (r < 0) {
		return r;
	}
	if (size) {
		r = convert_rect(res, rect, PIXMAN_x8r8g8b8, pr->scratch.data, (uint32_t)stride);
		if (r < 0) {
			return r;
		}
	}
	ret_pixels->data = pr->scratch.data;
	ret_pixels->stride = (uint32_t)stride;
	ret_pixels->stable = false;
	return 0;
}

static int pixman_cursor_image(struct rnd_renderer *base, uint32_t resource_id,
	uint32_t *ret_argb, uint32_t width, uint32_t height)
{
	struct rnd_pixman *pr = pixman_from_base(base);
	struct pixman_res *res = id_table_lookup(&pr->resources, resource_id);
	struct rnd_rect rect = { 0, 0, width, height };

	if (!res || res->width != width || res->height != height) {
		return -EINVAL;
	}
	return convert_rect(res, &rect, PIXMAN_a8r8g8b8, ret_argb, width * 4);
}

static void pixman_destroy(struct rnd_renderer *base)
{
	struct rnd_pixman *pr = pixman_from_base(base);
	size_t iter = 0;
	uint32_t id;
	void *value;

	while (id_table_next(&pr->resources, &iter, &id, &value)) {
		res_free(value);
	}
	id_table_finish(&pr->resources);
	rnd_scratch_finish(&pr->scratch);
	free(pr);
}

static const struct rnd_ops pixman_ops = {
	.name = "2d (pixman)",
	.destroy = pixman_destroy,
	.resource_create_2d = pixman_resource_create_2d,
	.resource_destroy = pixman_resource_destroy,
	.transfer_to_host_2d = pixman_transfer_to_host_2d,
	.read_pixels = pixman_read_pixels,
	.cursor_image = pixman_cursor_image,
};

struct rnd_renderer *rnd_pixman_create(void)
{
	struct rnd_pixman *pr = calloc(1, sizeof(*pr));

	if (!pr) {
		return NULL;
	}
	rnd_init(&pr->base, &pixman_ops);
	id_table_init(&pr->resources, PIXMAN_MAX_RESOURCES);
	return &pr->base;
}
