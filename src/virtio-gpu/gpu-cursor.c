/* SPDX-License-Identifier: MIT */
/* The cursor queue: UPDATE_CURSOR and MOVE_CURSOR become display cursor messages. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "gpu-priv.h"
#include "log.h"

struct cursor_args {
	uint32_t scanout_id, x, y, resource_id, hot_x, hot_y;
};

static void cursor_args(const struct gpu_cmd *cmd, struct cursor_args *a)
{
	const struct virtio_gpu_update_cursor *c = &cmd->req.cursor;

	a->scanout_id = le32toh(c->pos.scanout_id);
	a->x = le32toh(c->pos.x);
	a->y = le32toh(c->pos.y);
	a->resource_id = le32toh(c->resource_id);
	a->hot_x = le32toh(c->hot_x);
	a->hot_y = le32toh(c->hot_y);
}

gpu_resp_t gpu_cmd_update_cursor(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	struct vugpu_cursor_update *update;
	struct gpu_resource *res;
	struct cursor_args a;

	cursor_args(cmd, &a);
	if (a.scanout_id >= dev->num_scanouts) {
		log_guest("UPDATE_CURSOR: scanout %u of %u", a.scanout_id, dev->num_scanouts);
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	}
	if (a.resource_id == 0) {
		disp_cursor_move(dev->sink, a.scanout_id, a.x, a.y, false);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	res = gpu_resource_lookup(dev, a.resource_id);
	if (!res) {
		log_guest("UPDATE_CURSOR: no resource %u", a.resource_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (res->width != VUGPU_CURSOR_DIM || res->height != VUGPU_CURSOR_DIM ||
		a.hot_x >= VUGPU_CURSOR_DIM || a.hot_y >= VUGPU_CURSOR_DIM) {
		log_guest("UPDATE_CURSOR: resource %u is %ux%u (hot spot %u,%u), not 64x64",
			a.resource_id, res->width, res->height, a.hot_x, a.hot_y);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (res->blob) {
		/* a 64x64 layout was given by SET_SCANOUT_BLOB: take the pixels from the guest now */
		struct virtio_gpu_rect all = { 0, 0, VUGPU_CURSOR_DIM, VUGPU_CURSOR_DIM };

		if (gpu_blob_refresh(dev, res, &all) < 0) {
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		}
	}
	update = malloc(sizeof(*update));
	if (!update) {
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	update->pos = (struct vugpu_cursor_pos){ a.scanout_id, a.x, a.y };
	update->hot_x = a.hot_x;
	update->hot_y = a.hot_y;
	/* the wire struct is packed: render into an aligned buffer, then copy */
	uint32_t *image = malloc(sizeof(update->data));
	if (!image || rnd_cursor_image(dev->renderer, a.resource_id, image, VUGPU_CURSOR_DIM,
			      VUGPU_CURSOR_DIM) < 0) {
		free(image);
		free(update);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	memcpy(update->data, image, sizeof(update->data));
	free(image);
	disp_cursor_update(dev->sink, update);
	free(update);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_cmd_move_cursor(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	struct cursor_args a;

	cursor_args(cmd, &a);
	if (a.scanout_id >= dev->num_scanouts) {
		log_guest("MOVE_CURSOR: scanout %u of %u", a.scanout_id, dev->num_scanouts);
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	}
	/* like QEMU's backend: a move without a cursor resource hides it */
	disp_cursor_move(dev->sink, a.scanout_id, a.x, a.y, a.resource_id != 0);
	return VIRTIO_GPU_RESP_OK_NODATA;
}
