/* SPDX-License-Identifier: MIT */
#include "renderer.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "checked.h"

void rnd_init(struct rnd_renderer *r, const struct rnd_ops *ops)
{
	assert(ops->destroy && ops->resource_create_2d && ops->resource_destroy &&
		ops->transfer_to_host_2d && ops->read_pixels);
	r->ops = ops;
}

void rnd_destroy(struct rnd_renderer *r)
{
	if (r) {
		r->ops->destroy(r);
	}
}

int rnd_resource_create_2d(struct rnd_renderer *r, const struct rnd_create_2d *args)
{
	return r->ops->resource_create_2d(r, args);
}

void rnd_resource_destroy(struct rnd_renderer *r, uint32_t resource_id)
{
	r->ops->resource_destroy(r, resource_id);
}

int rnd_transfer_to_host_2d(struct rnd_renderer *r, uint32_t resource_id,
	const struct rnd_rect *rect, uint64_t offset, const struct rnd_backing *backing)
{
	return r->ops->transfer_to_host_2d(r, resource_id, rect, offset, backing);
}

int rnd_read_pixels(struct rnd_renderer *r, uint32_t resource_id, const struct rnd_rect *rect,
	struct rnd_pixels *ret_pixels)
{
	return r->ops->read_pixels(r, resource_id, rect, ret_pixels);
}

int rnd_cursor_image(struct rnd_renderer *r, uint32_t resource_id, uint32_t *ret_argb,
	uint32_t width, uint32_t height)
{
	if (!r->ops->cursor_image) {
		return -EOPNOTSUPP;
	}
	return r->ops->cursor_image(r, resource_id, ret_argb, width, height);
}

unsigned int rnd_num_capsets(struct rnd_renderer *r)
{
	return r->ops->num_capsets ? r->ops->num_capsets(r) : 0;
}

/* Index of the entry holding linear offset off (entries sorted by offset). */
static unsigned int backing_find(const struct rnd_backing *b, uint64_t off)
{
	unsigned int lo = 0, hi = b->n;

	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (b->entries[mid].offset <= off) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static int backing_copy(const struct rnd_backing *b, uint64_t offset, void *buf, size_t len,
	bool to_guest)
{
	uint8_t *p = buf;
	unsigned int i;

	if (!range_within(offset, len, b->size)) {
		return -EFAULT;
	}
	if (len == 0) {
		return 0;
	}
	for (i = backing_find(b, offset); len > 0 && i < b->n; i++) {
		const struct rnd_backing_entry *e = &b->entries[i];
		uint64_t in_entry = offset - e->offset;
		uint64_t chunk = e->len - in_entry;
		int r;

		if (chunk > len) {
			chunk = len;
		}
		r = to_guest ? vu_mem_write(b->mem, e->gpa + in_entry, p, (size_t)chunk)
			     : vu_mem_read(b->mem, e->gpa + in_entry, p, (size_t)chunk);
		if (r < 0) {
			return r;
		}
		p += chunk;
		offset += chunk;
		len -= (size_t)chunk;
	}
	return len == 0 ? 0 : -EFAULT;
}

int rnd_backing_read(const struct rnd_backing *b, uint64_t offset, void *dst, size_t len)
{
	return backing_copy(b, offset, dst, len, false);
}

int rnd_backing_write(const struct rnd_backing *b, uint64_t offset, const void *src, size_t len)
{
	return backing_copy(b, offset, (void *)src, len, true);
}
