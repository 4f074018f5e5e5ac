/* SPDX-License-Identifier: MIT */
/*
 * Scanouts and what reaches the screen: display info and EDID (asked of the
 * frontend without blocking), SET_SCANOUT, and RESOURCE_FLUSH, which sends
 * only the damaged rectangle of each scanout showing the resource.
 */
#include <endian.h>
#include <string.h>

#include "checked.h"
#include "edid.h"
#include "gpu-priv.h"
#include "log.h"

static void default_display_info(struct virtio_gpu_resp_display_info *info)
{
	memset(info, 0, sizeof(*info));
	info->pmodes[0].r.width = htole32(DISP_DEFAULT_WIDTH);
	info->pmodes[0].r.height = htole32(DISP_DEFAULT_HEIGHT);
	info->pmodes[0].enabled = htole32(1);
}

static void answer_display_info(struct gpu_device *dev, struct gpu_cmd *cmd)
{
	struct gpu_resp_body body = { .len = sizeof(body.u.display_info) };

	body.u.display_info = dev->display_info_valid ? dev->display_info : (struct virtio_gpu_resp_display_info){ 0 };
	if (!dev->display_info_valid) {
		default_display_info(&body.u.display_info);
	}
	gpu_cmd_finish(dev, cmd, VIRTIO_GPU_RESP_OK_DISPLAY_INFO, &body);
}

/* Size of a scanout as the frontend last described it, or the default monitor. */
static void scanout_mode(struct gpu_device *dev, uint32_t scanout, uint32_t *w, uint32_t *h)
{
	*w = DISP_DEFAULT_WIDTH;
	*h = DISP_DEFAULT_HEIGHT;
	if (dev->display_info_valid && le32toh(dev->display_info.pmodes[scanout].enabled)) {
		*w = le32toh(dev->display_info.pmodes[scanout].r.width);
		*h = le32toh(dev->display_info.pmodes[scanout].r.height);
	}
}

static void answer_generated_edid(struct gpu_device *dev, struct gpu_cmd *cmd)
{
	struct gpu_resp_body body = { .len = sizeof(body.u.edid) };
	uint32_t w, h;

	memset(&body.u.edid, 0, sizeof(body.u.edid));
	scanout_mode(dev, le32toh(cmd->req.get_edid.scanout), &w, &h);
	edid_generate(body.u.edid.edid, w, h);
	body.u.edid.size = htole32(EDID_BLOCK_SIZE);
	gpu_cmd_finish(dev, cmd, VIRTIO_GPU_RESP_OK_EDID, &body);
}

static struct gpu_cmd *take_deferred(struct gpu_device *dev)
{
	struct gpu_cmd *cmd = dev->deferred;

	dev->deferred = NULL;
	return cmd;
}

void gpu_deferred_fallback(struct gpu_device *dev)
{
	struct gpu_cmd *cmd = take_deferred(dev);

	if (!cmd) {
		return;
	}
	if (cmd->hdr.type == VIRTIO_GPU_CMD_RESOURCE_FLUSH) {
		/* the display that owed us acks is gone; the guest's frame is done */
		dev->flush_acks_pending = 0;
		gpu_cmd_finish(dev, cmd, VIRTIO_GPU_RESP_OK_NODATA, NULL);
	} else if (cmd->hdr.type == VIRTIO_GPU_CMD_GET_EDID) {
		answer_generated_edid(dev, cmd);
	} else {
		answer_display_info(dev, cmd);
	}
}

static void display_info_reply(void *data, int status, const void *reply, size_t len)
{
	struct gpu_device *dev = data;
	struct gpu_cmd *cmd = take_deferred(dev);

	if (status == 0 && len == sizeof(dev->display_info)) {
		memcpy(&dev->display_info, reply, sizeof(dev->display_info));
		dev->display_info_valid = true;
	}
	if (cmd) {
		answer_display_info(dev, cmd);
		gpu_notify_queues(dev);
	}
	gpu_ctrl_resume(dev);
}

gpu_resp_t gpu_cmd_get_display_info(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	/* known and not invalidated by a config access since: answer at once */
	if (dev->display_info_valid) {
		body->u.display_info = dev->display_info;
		body->len = sizeof(body->u.display_info);
		return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
	}
	dev->deferred = cmd;
	if (disp_get_display_info(dev->sink, display_info_reply, dev) < 0) {
		gpu_deferred_fallback(dev);
	}
	return GPU_RESP_DEFERRED;
}

static void edid_reply(void *data, int status, const void *reply, size_t len)
{
	struct gpu_device *dev = data;
	struct gpu_cmd *cmd = take_deferred(dev);
	struct gpu_resp_body body = { .len = sizeof(body.u.edid) };

	if (!cmd) {
		gpu_ctrl_resume(dev);
		return;
	}
	if (status < 0 || len != sizeof(body.u.edid)) {
		answer_generated_edid(dev, cmd);
	} else {
		memcpy(&body.u.edid, reply, sizeof(body.u.edid));
		/* the frontend's size is trusted no further than the array */
		if (le32toh(body.u.edid.size) > sizeof(body.u.edid.edid)) {
			body.u.edid.size = htole32(sizeof(body.u.edid.edid));
		}
		gpu_cmd_finish(dev, cmd, VIRTIO_GPU_RESP_OK_EDID, &body);
	}
	gpu_notify_queues(dev);
	gpu_ctrl_resume(dev);
}

/*
 * Asks the frontend for the EDID of the command's scanout, or answers with one
 * we make. QEMU answers GET_EDID only for outputs it has, and never for a
 * scanout past its max_outputs: ask only about outputs it reported.
 */
static void edid_ask(struct gpu_device *dev)
{
	uint32_t scanout = le32toh(dev->deferred->req.get_edid.scanout);

	if (!dev->display_info_valid || !le32toh(dev->display_info.pmodes[scanout].enabled) ||
		disp_get_edid(dev->sink, scanout, edid_reply, dev) < 0) {
		gpu_deferred_fallback(dev);
	}
}

static void edid_display_info_reply(void *data, int status, const void *reply, size_t len)
{
	struct gpu_device *dev = data;

	if (status == 0 && len == sizeof(dev->display_info)) {
		memcpy(&dev->display_info, reply, sizeof(dev->display_info));
		dev->display_info_valid = true;
	}
	if (dev->deferred) {
		edid_ask(dev);
	}
	gpu_notify_queues(dev);
	gpu_ctrl_resume(dev);
}

gpu_resp_t gpu_cmd_get_edid(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t scanout = le32toh(cmd->req.get_edid.scanout);

	if (scanout >= dev->num_scanouts) {
		log_guest("GET_EDID: scanout %u of %u", scanout, dev->num_scanouts);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	dev->deferred = cmd;
	/*
	 * Linux asks for EDIDs before the display info: learn the outputs
	 * first, so the EDID (ours or the frontend's) matches their modes.
	 */
	if (!dev->display_info_valid) {
		if (disp_get_display_info(dev->sink, edid_display_info_reply, dev) < 0) {
			gpu_deferred_fallback(dev);
		}
		return GPU_RESP_DEFERRED;
	}
	edid_ask(dev);
	return GPU_RESP_DEFERRED;
}

void gpu_scanout_disable(struct gpu_device *dev, uint32_t scanout_id)
{
	struct gpu_scanout *s = &dev->scanouts[scanout_id];
	struct gpu_resource *old = gpu_resource_lookup(dev, s->resource_id);

	if (old) {
		old->scanout_mask &= ~(1u << scanout_id);
	}
	/* like QEMU's backend, tell the display even if it was off already */
	if (s->dmabuf) {
		disp_dmabuf_scanout(dev->sink, scanout_id, NULL, 0, 0, 0, 0);
	} else {
		disp_scanout(dev->sink, scanout_id, 0, 0);
	}
	memset(s, 0, sizeof(*s));
}

void gpu_scanouts_forget_dmabufs(struct gpu_device *dev)
{
	for (uint32_t i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
		dev->scanouts[i].dmabuf = false;
	}
}

/*
 * Tells the display what the scanout shows now: the resource's texture as a
 * dma-buf when the renderer can export it and the display can take one
 * (no copies at all), else a surface our UPDATEs fill (readback).
 */
static void scanout_show(struct gpu_device *dev, uint32_t scanout_id, uint32_t resource_id,
	const struct virtio_gpu_rect *r)
{
	struct gpu_scanout *s = &dev->scanouts[scanout_id];
	struct rnd_dmabuf buf;

	if (disp_has_dmabuf(dev->sink) && rnd_export_dmabuf(dev->renderer, resource_id, &buf) == 0) {
		struct disp_dmabuf d = {
			.fd = buf.fd,
			.width = buf.width,
			.height = buf.height,
			.stride = buf.stride,
			.drm_fourcc = buf.drm_fourcc,
			.modifier = buf.modifier,
			.y0_top = buf.y0_top,
		};

		if (disp_dmabuf_scanout(dev->sink, scanout_id, &d, r->x, r->y, r->width,
			    r->height) == 0) {
			log_debug("scanout %u shows resource %u as a dma-buf (%ux%u, fourcc 0x%x)",
				scanout_id, resource_id, buf.width, buf.height, buf.drm_fourcc);
			s->dmabuf = true;
			return;
		}
	}
	if (s->dmabuf) {
		/* from a dma-buf back to a plain surface: release the old buffer first */
		disp_dmabuf_scanout(dev->sink, scanout_id, NULL, 0, 0, 0, 0);
		s->dmabuf = false;
	}
	/* like QEMU's backend: a new surface of the scanout's size; the flush fills it */
	disp_scanout(dev->sink, scanout_id, r->width, r->height);
}

void gpu_scanouts_detach(struct gpu_device *dev, struct gpu_resource *res)
{
	for (uint32_t i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
		if (res->scanout_mask & (1u << i)) {
			gpu_scanout_disable(dev, i);
		}
	}
}

gpu_resp_t gpu_cmd_set_scanout(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	const struct virtio_gpu_set_scanout *ss = &cmd->req.set_scanout;
	uint32_t scanout_id = le32toh(ss->scanout_id), id = le32toh(ss->resource_id);
	struct virtio_gpu_rect r = {
		le32toh(ss->r.x), le32toh(ss->r.y), le32toh(ss->r.width), le32toh(ss->r.height)
	};
	struct gpu_resource *res;

	if (scanout_id >= dev->num_scanouts) {
		log_guest("SET_SCANOUT: scanout %u of %u", scanout_id, dev->num_scanouts);
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	}
	if (id == 0) {
		gpu_scanout_disable(dev, scanout_id);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	res = gpu_resource_lookup(dev, id);
	if (!res) {
		log_guest("SET_SCANOUT: no resource %u", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (res->blob) {
		/* a blob has no pixel layout of its own: SET_SCANOUT_BLOB gives one */
		log_guest("SET_SCANOUT: resource %u is a blob", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (r.width == 0 || r.height == 0 ||
		!rect_within(r.x, r.y, r.width, r.height, res->width, res->height)) {
		log_guest("SET_SCANOUT: rect %u,%u %ux%u not inside resource %u (%ux%u)", r.x, r.y,
			r.width, r.height, id, res->width, res->height);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	gpu_scanout_attach(dev, scanout_id, res, &r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void gpu_scanout_attach(struct gpu_device *dev, uint32_t scanout_id, struct gpu_resource *res,
	const struct virtio_gpu_rect *r)
{
	struct gpu_scanout *s = &dev->scanouts[scanout_id];

	if (s->resource_id != res->id) {
		struct gpu_resource *old = gpu_resource_lookup(dev, s->resource_id);

		if (old) {
			old->scanout_mask &= ~(1u << scanout_id);
		}
	}
	res->scanout_mask |= 1u << scanout_id;
	s->resource_id = res->id;
	s->rect = *r;
	scanout_show(dev, scanout_id, res->id, r);
}

/* Intersection of two rects; false if empty. */
static bool rect_intersect(const struct virtio_gpu_rect *a, const struct virtio_gpu_rect *b,
	struct virtio_gpu_rect *out)
{
	uint64_t x1 = a->x > b->x ? a->x : b->x;
	uint64_t y1 = a->y > b->y ? a->y : b->y;
	uint64_t ax2 = (uint64_t)a->x + a->width, bx2 = (uint64_t)b->x + b->width;
	uint64_t ay2 = (uint64_t)a->y + a->height, by2 = (uint64_t)b->y + b->height;
	uint64_t x2 = ax2 < bx2 ? ax2 : bx2, y2 = ay2 < by2 ? ay2 : by2;

	if (x2 <= x1 || y2 <= y1) {
		return false;
	}
	*out = (struct virtio_gpu_rect){ (uint32_t)x1, (uint32_t)y1, (uint32_t)(x2 - x1),
		(uint32_t)(y2 - y1) };
	return true;
}

static void flush_ack(void *data, int status, const void *reply, size_t len)
{
	struct gpu_device *dev = data;

	if (dev->flush_acks_pending == 0 || --dev->flush_acks_pending > 0) {
		return;
	}
	if (status < 0) {
		log_frontend("DMABUF_UPDATE not acknowledged; completing the flush anyway");
	}
	struct gpu_cmd *cmd = take_deferred(dev);

	if (cmd) {
		gpu_cmd_finish(dev, cmd, VIRTIO_GPU_RESP_OK_NODATA, NULL);
		gpu_notify_queues(dev);
	}
	gpu_ctrl_resume(dev);
}

gpu_resp_t gpu_cmd_resource_flush(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	const struct virtio_gpu_resource_flush *f = &cmd->req.flush;
	uint32_t id = le32toh(f->resource_id);
	struct virtio_gpu_rect r = {
		le32toh(f->r.x), le32toh(f->r.y), le32toh(f->r.width), le32toh(f->r.height)
	};
	struct gpu_resource *res = gpu_resource_lookup(dev, id);
	unsigned int acks = 0;

	if (!res) {
		log_guest("RESOURCE_FLUSH: no resource %u", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (res->blob && !res->blob_layout) {
		return VIRTIO_GPU_RESP_OK_NODATA; /* a blob on no scanout yet: nothing to show */
	}
	if (!rect_within(r.x, r.y, r.width, r.height, res->width, res->height)) {
		log_guest("RESOURCE_FLUSH: rect %u,%u %ux%u outside %ux%u", r.x, r.y, r.width,
			r.height, res->width, res->height);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	for (uint32_t i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
		const struct gpu_scanout *s = &dev->scanouts[i];
		struct virtio_gpu_rect damage;
		struct rnd_rect rect;
		struct rnd_pixels px;

		if (!(res->scanout_mask & (1u << i)) || !rect_intersect(&r, &s->rect, &damage)) {
			continue;
		}
		if (s->dmabuf) {
			/*
			 * The frontend draws from the buffer itself and acks when done.
			 * The rect is in buffer (resource) coordinates, as QEMU's own
			 * GL devices pass a flush to dpy_gl_update(), unlike UPDATE's.
			 */
			if (disp_dmabuf_update(dev->sink, i, damage.x, damage.y, damage.width,
				    damage.height, flush_ack, dev) == 0) {
				acks++;
			}
			continue;
		}
		if (res->blob && gpu_blob_refresh(dev, res, &damage) < 0) {
			log_guest("RESOURCE_FLUSH: blob %u: backing not readable", id);
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		}
		rect = (struct rnd_rect){ damage.x, damage.y, damage.width, damage.height };
		if (rnd_read_pixels(dev->renderer, id, &rect, &px) < 0) {
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		}
		disp_update(dev->sink, i, damage.x - s->rect.x, damage.y - s->rect.y, damage.width,
			damage.height, px.data, px.stride, px.stable);
	}
	if (acks == 0) {
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	/*
	 * The guest may draw into the buffer again once the flush is answered:
	 * answer only after the frontend has drawn from it.
	 */
	dev->deferred = cmd;
	dev->flush_acks_pending = acks;
	return GPU_RESP_DEFERRED;
}
