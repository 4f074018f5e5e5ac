/* SPDX-License-Identifier: MIT */
/*
 * Guest blob resources (VIRTIO_GPU_F_RESOURCE_BLOB, BLOB_MEM_GUEST) and
 * SET_SCANOUT_BLOB. A guest blob is bytes in the guest's pages with no
 * pixel layout of its own; SET_SCANOUT_BLOB lays a framebuffer over it
 * (format, size, stride, offset of plane 0). We then keep a host copy of
 * that framebuffer in the renderer, created with the guest's own stride so
 * the rows line up, and refresh the damaged rect of it from the guest's
 * pages at each RESOURCE_FLUSH: the guest never sends TRANSFER_TO_HOST_2D
 * for a blob (it writes its pages and flushes). From there the flush path
 * is the one of 2D resources.
 *
 * Host blobs (BLOB_MEM_HOST3D*) and MAP_BLOB need a 3D renderer and a
 * host-visible memory region, which vhost-user-gpu does not give us; the
 * feature is offered in 2d mode only (gpu-device.c).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>

#include "checked.h"
#include "gpu-format.h"
#include "gpu-priv.h"
#include "log.h"

/* The blob flags a guest blob may carry here: none asks for a mapping. */
#define GUEST_BLOB_FLAGS (VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE | VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE)

gpu_resp_t gpu_cmd_resource_create_blob(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	const struct virtio_gpu_resource_create_blob *c = &cmd->req.create_blob;
	uint32_t id = le32toh(c->resource_id), mem = le32toh(c->blob_mem);
	uint32_t flags = le32toh(c->blob_flags), n = le32toh(c->nr_entries);
	uint64_t size = le64toh(c->size);
	struct gpu_backing b = { 0 };
	struct gpu_resource *res;
	gpu_resp_t err;

	if (mem != VIRTIO_GPU_BLOB_MEM_GUEST) {
		log_guest("RESOURCE_CREATE_BLOB: blob_mem %u (only guest blobs here)", mem);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (flags & ~(uint32_t)GUEST_BLOB_FLAGS) {
		/* USE_MAPPABLE needs a host-visible region, which the device has not */
		log_guest("RESOURCE_CREATE_BLOB: blob_flags 0x%x", flags);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (size == 0 || size > GPU_MAX_BLOB_SIZE) {
		log_guest("RESOURCE_CREATE_BLOB: size %llu (limit %llu)", (unsigned long long)size,
			(unsigned long long)GPU_MAX_BLOB_SIZE);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (n > 0) {
		err = gpu_backing_check(cmd, "RESOURCE_CREATE_BLOB", sizeof(*c), n);
		if (err == VIRTIO_GPU_RESP_OK_NODATA) {
			err = gpu_backing_read(dev, cmd, sizeof(*c), n, &b);
		}
		if (err != VIRTIO_GPU_RESP_OK_NODATA) {
			return err;
		}
		if (b.size < size) {
			log_guest("RESOURCE_CREATE_BLOB: %llu bytes of entries for a %llu-byte blob",
				(unsigned long long)b.size, (unsigned long long)size);
			free(b.entries);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
	}
	err = gpu_resource_create_blob(dev, id, size, &res);
	if (err != VIRTIO_GPU_RESP_OK_NODATA) {
		free(b.entries);
		return err;
	}
	if (n > 0 && gpu_backing_set(dev, res, &b) < 0) {
		gpu_resource_remove(dev, res);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* The framebuffer of a SET_SCANOUT_BLOB, host-endian. */
struct blob_layout {
	uint32_t format, width, height, stride, offset;
};

static bool layout_is(const struct gpu_resource *res, const struct blob_layout *l)
{
	return res->blob_layout && res->format == l->format && res->width == l->width &&
		res->height == l->height && res->stride == l->stride && res->blob_offset == l->offset;
}

/*
 * Gives res the layout l: a new host copy of host_bytes, within the host
 * budget. Scanouts that showed res with another layout are turned off.
 */
static gpu_resp_t layout_apply(struct gpu_device *dev, struct gpu_resource *res,
	const struct blob_layout *l, uint64_t host_bytes)
{
	struct rnd_create_2d args = { res->id, l->format, l->width, l->height, l->stride };
	uint64_t old_bytes = res->blob_layout ? (uint64_t)res->stride * res->height : 0;
	uint64_t total;

	if (!checked_add_u64(dev->host_bytes - old_bytes, host_bytes, &total) ||
		total > GPU_MAX_HOST_MEMORY) {
		log_guest("SET_SCANOUT_BLOB: blob %u: %llu more bytes of host memory refused",
			res->id, (unsigned long long)host_bytes);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	gpu_scanouts_detach(dev, res);
	if (res->blob_layout) {
		rnd_resource_destroy(dev->renderer, res->id);
		res->blob_layout = false;
		dev->host_bytes -= old_bytes;
		res->host_bytes -= old_bytes;
	}
	if (rnd_resource_create_2d(dev->renderer, &args) < 0) {
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	res->format = l->format;
	res->width = l->width;
	res->height = l->height;
	res->stride = l->stride;
	res->blob_offset = l->offset;
	res->blob_layout = true;
	dev->host_bytes += host_bytes;
	res->host_bytes += host_bytes;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_cmd_set_scanout_blob(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	const struct virtio_gpu_set_scanout_blob *sb = &cmd->req.set_scanout_blob;
	uint32_t scanout_id = le32toh(sb->scanout_id), id = le32toh(sb->resource_id);
	struct virtio_gpu_rect r = {
		le32toh(sb->r.x), le32toh(sb->r.y), le32toh(sb->r.width), le32toh(sb->r.height)
	};
	struct blob_layout l = { le32toh(sb->format), le32toh(sb->width), le32toh(sb->height),
		le32toh(sb->strides[0]), le32toh(sb->offsets[0]) };
	struct gpu_resource *res;
	uint64_t host_bytes;

	if (scanout_id >= dev->num_scanouts) {
		log_guest("SET_SCANOUT_BLOB: scanout %u of %u", scanout_id, dev->num_scanouts);
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	}
	if (id == 0) {
		gpu_scanout_disable(dev, scanout_id);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	res = gpu_resource_lookup(dev, id);
	if (!res || !res->blob) {
		log_guest("SET_SCANOUT_BLOB: %s %u", res ? "not a blob:" : "no resource", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (!gpu_blob_layout_fits(l.format, l.width, l.height, l.stride, l.offset, res->blob_size,
		    &host_bytes)) {
		log_guest("SET_SCANOUT_BLOB: format %u %ux%u stride %u offset %u does not fit "
			  "blob %u (%llu bytes)",
			l.format, l.width, l.height, l.stride, l.offset, id,
			(unsigned long long)res->blob_size);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (r.width == 0 || r.height == 0 ||
		!rect_within(r.x, r.y, r.width, r.height, l.width, l.height)) {
		log_guest("SET_SCANOUT_BLOB: rect %u,%u %ux%u not inside %ux%u", r.x, r.y, r.width,
			r.height, l.width, l.height);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (!res->backing || res->backing_size < res->blob_size) {
		log_guest("SET_SCANOUT_BLOB: blob %u has %llu bytes of backing, not %llu", id,
			(unsigned long long)res->backing_size, (unsigned long long)res->blob_size);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (!layout_is(res, &l)) {
		gpu_resp_t err = layout_apply(dev, res, &l, host_bytes);

		if (err != VIRTIO_GPU_RESP_OK_NODATA) {
			return err;
		}
	}
	gpu_scanout_attach(dev, scanout_id, res, &r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

int gpu_blob_refresh(struct gpu_device *dev, struct gpu_resource *res,
	const struct virtio_gpu_rect *rect)
{
	struct rnd_rect rr = { rect->x, rect->y, rect->width, rect->height };
	struct rnd_backing backing;
	uint64_t offset;

	if (rect->width == 0 || rect->height == 0) {
		return 0;
	}
	if (!res->blob_layout || !res->backing ||
		!rect_within(rect->x, rect->y, rect->width, rect->height, res->width, res->height)) {
		return -EINVAL;
	}
	/*
	 * Inside the layout, which lies inside the blob (checked when it was
	 * set, against a blob of at most GPU_MAX_BLOB_SIZE): cannot overflow.
	 * The backing may have been replaced since by a shorter one.
	 */
	offset = res->blob_offset + (uint64_t)rect->y * res->stride + (uint64_t)rect->x * 4;
	if (!gpu_transfer_fits_backing(res, rect, offset)) {
		return -EINVAL;
	}
	gpu_resource_backing(dev, res, &backing);
	return rnd_transfer_to_host_2d(dev->renderer, res->id, &rr, offset, &backing);
}
