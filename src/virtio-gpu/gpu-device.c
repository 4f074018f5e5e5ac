/* SPDX-License-Identifier: MIT */
/*
 * The device's life cycle and its two queues. Commands are handled one at a
 * time, in order, on the loop thread. The control queue pauses while the
 * display is busy (a reply awaited, a frame still being written) so frames
 * are paced by the frontend and borrowed pixels stay valid.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu-priv.h"
#include "log.h"

#define GPU_CONFIG_SIZE sizeof(struct virtio_gpu_config)

static bool ctrl_paused(struct gpu_device *dev)
{
	return dev->deferred || disp_busy(dev->sink);
}

void gpu_notify_queues(struct gpu_device *dev)
{
	for (unsigned int q = 0; q < GPU_NUM_QUEUES; q++) {
		if (dev->needs_notify[q]) {
			dev->needs_notify[q] = false;
			vu_vring_notify(vu_dev_vring(dev->vu, q));
		}
	}
}

void gpu_cmd_finish(struct gpu_device *dev, struct gpu_cmd *cmd, gpu_resp_t type,
	struct gpu_resp_body *body)
{
	struct vu_vring *vq = vu_dev_vring(dev->vu, cmd->qidx);
	struct virtio_gpu_ctrl_hdr hdr = { .type = htole32(type) };
	const uint8_t *resp;
	size_t len;
	uint64_t written;

	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC) {
		log_debug("command 0x%x answered 0x%x", cmd->hdr.type, type);
	}
	/* echo the fence so the guest can match it (2D work is already done) */
	if (cmd->hdr.flags & VIRTIO_GPU_FLAG_FENCE) {
		hdr.flags = htole32(cmd->hdr.flags &
			(VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX));
		hdr.fence_id = htole64(cmd->hdr.fence_id);
		hdr.ctx_id = htole32(cmd->hdr.ctx_id);
		if (cmd->hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) {
			hdr.ring_idx = cmd->hdr.ring_idx;
		}
	}
	if (body && body->len) {
		/* bodies are whole response structs; only the header is ours to set */
		uint8_t *bytes = body->heap ? body->heap : body->u.bytes;

		memcpy(bytes, &hdr, sizeof(hdr));
		resp = bytes;
		len = body->len;
	} else {
		resp = (const uint8_t *)&hdr;
		len = sizeof(hdr);
	}
	/* never write more than the guest gave us room for */
	written = len < cmd->elem->in_len ? len : cmd->elem->in_len;
	if (vu_elem_write(vu_dev_mem(dev->vu), cmd->elem, 0, resp, (size_t)written) < 0) {
		written = 0;
	}
	vu_vring_push(vq, cmd->elem, (uint32_t)written);
	dev->needs_notify[cmd->qidx] = true;
	if (body) {
		free(body->heap);
		body->heap = NULL;
	}
	free(cmd->elem);
	free(cmd);
}

static void process_queue(struct gpu_device *dev, unsigned int qidx)
{
	struct vu_vring *vq = vu_dev_vring(dev->vu, qidx);

	for (;;) {
		struct vu_elem *elem;
		struct gpu_cmd *cmd;
		int r;

		if (qidx == GPU_QUEUE_CTRL && ctrl_paused(dev)) {
			break;
		}
		r = vu_vring_pop(vq, &elem);
		if (r < 0) {
			break;
		}
		if (r == 0) {
			if (vu_vring_enable_notification(vq)) {
				continue; /* more arrived while we published our position */
			}
			break;
		}
		cmd = calloc(1, sizeof(*cmd));
		if (!cmd) {
			vu_vring_push(vq, elem, 0);
			free(elem);
			dev->needs_notify[qidx] = true;
			continue;
		}
		cmd->qidx = qidx;
		cmd->elem = elem;
		gpu_dispatch(dev, cmd);
	}
}

void gpu_ctrl_resume(struct gpu_device *dev)
{
	/* completions may arrive from inside processing; the running loop goes on */
	if (dev->processing) {
		return;
	}
	dev->processing = true;
	process_queue(dev, GPU_QUEUE_CTRL);
	dev->processing = false;
	gpu_notify_queues(dev);
}

/* ---- display sink events ---- */

static void on_display_idle(void *data)
{
	gpu_ctrl_resume(data);
}

static void on_display_closed(void *data)
{
	struct gpu_device *dev = data;

	if (dev->sink != dev->headless) {
		disp_destroy(dev->sink);
		dev->sink = dev->headless;
	}
	dev->display_info_valid = false;
	gpu_scanouts_forget_dmabufs(dev);
	gpu_deferred_fallback(dev);
	gpu_ctrl_resume(dev);
}

static void drop_display(struct gpu_device *dev)
{
	if (dev->sink != dev->headless) {
		disp_destroy(dev->sink);
		dev->sink = dev->headless;
	}
	if (dev->ignored_socket_fd >= 0) {
		close(dev->ignored_socket_fd);
		dev->ignored_socket_fd = -1;
	}
	dev->display_info_valid = false;
	gpu_scanouts_forget_dmabufs(dev);
}

/* ---- vhost-user device ops ---- */

static uint64_t gpu_get_features(void *opaque)
{
	struct gpu_device *dev = opaque;

	return dev->features;
}

static void gpu_set_features(void *opaque, uint64_t features)
{
	log_debug("guest features 0x%llx", (unsigned long long)features);
}

static void gpu_get_config(void *opaque, uint8_t *buf, uint32_t offset, uint32_t len)
{
	struct gpu_device *dev = opaque;
	struct virtio_gpu_config cfg = {
		.events_read = htole32(dev->events_read),
		.events_clear = 0,
		.num_scanouts = htole32(dev->num_scanouts),
		.num_capsets = htole32(rnd_num_capsets(dev->renderer)),
	};

	/*
	 * QEMU asks on every guest config read, and the guest reads the config
	 * when the display changed: what we know of the display may be stale.
	 */
	dev->display_info_valid = false;
	memcpy(buf, (uint8_t *)&cfg + offset, len);
}

static void gpu_set_config(void *opaque, const uint8_t *buf, uint32_t offset, uint32_t len)
{
	struct gpu_device *dev = opaque;
	struct virtio_gpu_config cfg = { 0 };
	const uint32_t clear_off = offsetof(struct virtio_gpu_config, events_clear);

	dev->display_info_valid = false;
	/* events_clear is the only writable field: write-one-to-clear */
	if (offset <= clear_off && offset + len >= clear_off + sizeof(uint32_t)) {
		memcpy((uint8_t *)&cfg + offset, buf, len);
		dev->events_read &= ~le32toh(cfg.events_clear);
	}
}

static void gpu_queue_kick(void *opaque, unsigned int qidx)
{
	struct gpu_device *dev = opaque;

	if (qidx == GPU_QUEUE_CTRL) {
		gpu_ctrl_resume(dev);
		return;
	}
	process_queue(dev, qidx);
	gpu_notify_queues(dev);
}

static void gpu_queue_stop(void *opaque, unsigned int qidx)
{
	struct gpu_device *dev = opaque;

	/* the ring is still ours for this call: answer what waits on the display or a fence */
	if (qidx == GPU_QUEUE_CTRL) {
		gpu_deferred_fallback(dev);
		gpu_fences_flush(dev, true);
		gpu_notify_queues(dev);
	}
}

static int gpu_set_device_socket(void *opaque, int fd)
{
	struct gpu_device *dev = opaque;
	struct disp_events events = {
		.idle = on_display_idle,
		.closed = on_display_closed,
		.data = dev,
	};
	struct disp_sink *chan;

	/* a new socket replaces the old one (QEMU sends one per DRIVER_OK) */
	drop_display(dev);
	gpu_deferred_fallback(dev);
	if (dev->config.headless) {
		/* output is dropped; keep QEMU's socket open so it sees no error */
		dev->ignored_socket_fd = fd;
		return 0;
	}
	chan = vugpu_chan_create(dev->loop, fd, &events);
	if (!chan) {
		log_error("cannot set up the display channel: %s", strerror(errno));
		return -ENOMEM;
	}
	dev->sink = chan;
	log_info("display channel connected");
	return 0;
}

static void gpu_reset(void *opaque)
{
	struct gpu_device *dev = opaque;

	/* the display goes first: it may still point into resource pixels */
	drop_display(dev);
	if (dev->deferred) {
		free(dev->deferred->elem);
		free(dev->deferred);
		dev->deferred = NULL;
	}
	gpu_fences_flush(dev, false);
	gpu_contexts_destroy_all(dev);
	gpu_resources_destroy_all(dev);
	rnd_reset(dev->renderer);
	memset(dev->scanouts, 0, sizeof(dev->scanouts));
	dev->events_read = 0;
	memset(dev->needs_notify, 0, sizeof(dev->needs_notify));
}

static void gpu_mem_changed(void *opaque)
{
	gpu_resources_remap(opaque);
}

static const struct vu_device_ops gpu_vu_ops = {
	.mem_changed = gpu_mem_changed,
	.get_features = gpu_get_features,
	.set_features = gpu_set_features,
	.get_config = gpu_get_config,
	.set_config = gpu_set_config,
	.queue_kick = gpu_queue_kick,
	.queue_stop = gpu_queue_stop,
	.set_device_socket = gpu_set_device_socket,
	.reset = gpu_reset,
};

struct gpu_device *gpu_device_create(struct event_loop *loop, struct rnd_renderer *renderer,
	const struct gpu_device_config *config)
{
	struct gpu_device *dev = calloc(1, sizeof(*dev));
	struct disp_events events = { .data = dev };
	struct vu_dev_config vu_config = {
		.num_queues = GPU_NUM_QUEUES,
		.config_size = GPU_CONFIG_SIZE,
		.ops = &gpu_vu_ops,
		.opaque = dev,
		.on_disconnect = config->on_disconnect,
		.disconnect_data = config->disconnect_data,
	};

	if (!dev) {
		rnd_destroy(renderer);
		return NULL;
	}
	dev->loop = loop;
	dev->config = *config;
	dev->renderer = renderer;
	dev->ignored_socket_fd = -1;
	/* QEMU overwrites num_scanouts; alone we show one output */
	dev->num_scanouts = config->headless ? 1 : VIRTIO_GPU_MAX_SCANOUTS;
	dev->features = (UINT64_C(1) << VIRTIO_GPU_F_EDID) |
		(UINT64_C(1) << VIRTIO_GPU_F_RESOURCE_UUID);
	if (config->virgl) {
		/* CONTEXT_INIT: contexts of a chosen capset, and fences per ring */
		dev->features |= (UINT64_C(1) << VIRTIO_GPU_F_VIRGL) |
			(UINT64_C(1) << VIRTIO_GPU_F_CONTEXT_INIT);
	} else {
		/*
		 * Guest blobs and SET_SCANOUT_BLOB (gpu-blob.c). Not with virgl:
		 * Mesa's guest driver would then ask for host blobs it maps, and
		 * vhost-user-gpu gives no host-visible region to map them into.
		 */
		dev->features |= UINT64_C(1) << VIRTIO_GPU_F_RESOURCE_BLOB;
	}
	id_table_init(&dev->resources, GPU_MAX_RESOURCES);
	id_table_init(&dev->contexts, GPU_MAX_CONTEXTS);
	struct rnd_fence_events fence_events = {
		.retired = gpu_fence_retired,
		.context_retired = gpu_fence_context_retired,
		.data = dev,
	};
	rnd_set_fence_events(renderer, &fence_events);
	dev->headless = disp_headless_create(&events);
	dev->sink = dev->headless;
	dev->vu = vu_dev_create(loop, &vu_config);
	if (!dev->headless || !dev->vu) {
		gpu_device_destroy(dev);
		return NULL;
	}
	return dev;
}

void gpu_device_destroy(struct gpu_device *dev)
{
	if (!dev) {
		return;
	}
	if (dev->vu) {
		vu_dev_destroy(dev->vu); /* ends the session: resets the device */
	} else {
		gpu_reset(dev);
	}
	disp_destroy(dev->headless);
	id_table_finish(&dev->resources);
	id_table_finish(&dev->contexts);
	rnd_destroy(dev->renderer);
	free(dev);
}

int gpu_device_attach(struct gpu_device *dev, int conn_fd)
{
	return vu_dev_attach(dev->vu, conn_fd);
}

bool gpu_device_connected(const struct gpu_device *dev)
{
	return vu_dev_connected(dev->vu);
}
