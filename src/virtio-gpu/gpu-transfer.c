/* SPDX-License-Identifier: MIT */
/* TRANSFER_TO_HOST_2D: every rect, stride and offset check before the copy. */
#include <endian.h>

#include "checked.h"
#include "gpu-priv.h"
#include "log.h"

/*
 * Does the rect's last byte lie inside the backing? Row i of the rect is
 * read from offset + i * stride, width * bpp bytes long. All in 64 bits
 * with overflow checks: offset comes straight from the guest.
 */
bool gpu_transfer_fits_backing(const struct gpu_resource *res, const struct virtio_gpu_rect *r,
	uint64_t offset)
{
	uint64_t last_row, end;

	if (r->width == 0 || r->height == 0) {
		return true;
	}
	if (!checked_mul_u64(res->stride, (uint64_t)r->height - 1, &last_row) ||
		!checked_add_u64(offset, last_row, &end) ||
		!checked_add_u64(end, (uint64_t)r->width * 4, &end)) {
		return false;
	}
	return end <= res->backing_size;
}

gpu_resp_t gpu_cmd_transfer_to_host_2d(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	const struct virtio_gpu_transfer_to_host_2d *t = &cmd->req.transfer_2d;
	uint32_t id = le32toh(t->resource_id);
	struct virtio_gpu_rect r = {
		le32toh(t->r.x), le32toh(t->r.y), le32toh(t->r.width), le32toh(t->r.height)
	};
	uint64_t offset = le64toh(t->offset);
	struct gpu_resource *res = gpu_resource_lookup(dev, id);
	struct rnd_rect rect = { r.x, r.y, r.width, r.height };
	struct rnd_backing backing;

	if (!res) {
		log_guest("TRANSFER_TO_HOST_2D: no resource %u", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (res->blob) {
		/* like QEMU: nothing to copy, a blob's pixels are read at the flush */
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	if (!res->backing) {
		log_guest("TRANSFER_TO_HOST_2D: resource %u has no backing", id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (!rect_within(r.x, r.y, r.width, r.height, res->width, res->height)) {
		log_guest("TRANSFER_TO_HOST_2D: rect %u,%u %ux%u outside %ux%u", r.x, r.y, r.width,
			r.height, res->width, res->height);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (!gpu_transfer_fits_backing(res, &r, offset)) {
		log_guest("TRANSFER_TO_HOST_2D: offset %llu and rect go past the backing (%llu bytes)",
			(unsigned long long)offset, (unsigned long long)res->backing_size);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	gpu_resource_backing(dev, res, &backing);
	if (rnd_transfer_to_host_2d(dev->renderer, id, &rect, offset, &backing) < 0) {
		log_guest("TRANSFER_TO_HOST_2D: backing of resource %u not readable", id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}
