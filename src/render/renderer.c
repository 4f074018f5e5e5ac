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

int rnd_capset_info(struct rnd_renderer *r, unsigned int index, uint32_t *ret_id,
	uint32_t *ret_max_version, uint32_t *ret_max_size)
{
	if (!r->ops->capset_info || index >= rnd_num_capsets(r)) {
		return -EINVAL;
	}
	return r->ops->capset_info(r, index, ret_id, ret_max_version, ret_max_size);
}

int rnd_fill_capset(struct rnd_renderer *r, uint32_t id, uint32_t version, void *buf,
	uint32_t size)
{
	return r->ops->fill_capset ? r->ops->fill_capset(r, id, version, buf, size) : -EOPNOTSUPP;
}

int rnd_attach_backing(struct rnd_renderer *r, uint32_t resource_id,
	const struct rnd_backing *backing)
{
	return r->ops->attach_backing ? r->ops->attach_backing(r, resource_id, backing) : 0;
}

void rnd_detach_backing(struct rnd_renderer *r, uint32_t resource_id)
{
	if (r->ops->detach_backing) {
		r->ops->detach_backing(r, resource_id);
	}
}

int rnd_resource_create_3d(struct rnd_renderer *r, const struct rnd_create_3d *args)
{
	return r->ops->resource_create_3d ? r->ops->resource_create_3d(r, args) : -EOPNOTSUPP;
}

int rnd_transfer_3d(struct rnd_renderer *r, const struct rnd_transfer_3d *t)
{
	return r->ops->transfer_3d ? r->ops->transfer_3d(r, t) : -EOPNOTSUPP;
}

int rnd_ctx_create(struct rnd_renderer *r, uint32_t ctx_id, uint32_t capset_id, const char *name,
	uint32_t name_len)
{
	return r->ops->ctx_create ? r->ops->ctx_create(r, ctx_id, capset_id, name, name_len)
				  : -EOPNOTSUPP;
}

void rnd_ctx_destroy(struct rnd_renderer *r, uint32_t ctx_id)
{
	if (r->ops->ctx_destroy) {
		r->ops->ctx_destroy(r, ctx_id);
	}
}

void rnd_ctx_attach_resource(struct rnd_renderer *r, uint32_t ctx_id, uint32_t resource_id)
{
	if (r->ops->ctx_attach_resource) {
		r->ops->ctx_attach_resource(r, ctx_id, resource_id);
	}
}

void rnd_ctx_detach_resource(struct rnd_renderer *r, uint32_t ctx_id, uint32_t resource_id)
{
	if (r->ops->ctx_detach_resource) {
		r->ops->ctx_detach_resource(r, ctx_id, resource_id);
	}
}

int rnd_submit_3d(struct rnd_renderer *r, uint32_t ctx_id, void *buf, uint32_t size)
{
	return r->ops->submit_3d ? r->ops->submit_3d(r, ctx_id, buf, size) : -EOPNOTSUPP;
}

bool rnd_has_fences(struct rnd_renderer *r)
{
	return r->ops->create_fence != NULL;
}

int rnd_create_fence(struct rnd_renderer *r, uint64_t seq)
{
	return r->ops->create_fence ? r->ops->create_fence(r, seq) : -EOPNOTSUPP;
}

int rnd_create_context_fence(struct rnd_renderer *r, uint32_t ctx_id, uint32_t ring_idx,
	uint64_t seq)
{
	return r->ops->create_context_fence ?
		       r->ops->create_context_fence(r, ctx_id, ring_idx, seq) :
		       -EOPNOTSUPP;
}

void rnd_set_fence_events(struct rnd_renderer *r, const struct rnd_fence_events *fences)
{
	if (r->ops->set_fence_events) {
		r->ops->set_fence_events(r, fences);
	}
}

int rnd_export_dmabuf(struct rnd_renderer *r, uint32_t resource_id, struct rnd_dmabuf *ret_dmabuf)
{
	return r->ops->export_dmabuf ? r->ops->export_dmabuf(r, resource_id, ret_dmabuf) :
				       -EOPNOTSUPP;
}

void rnd_reset(struct rnd_renderer *r)
{
	if (r->ops->reset) {
		r->ops->reset(r);
	}
}

bool rnd_is_3d(struct rnd_renderer *r)
{
	return r->ops->submit_3d != NULL;
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
