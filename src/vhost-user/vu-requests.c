/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user request table and its handlers. The dispatcher in vu-dev.c
 * has checked size, fds, ring index and protocol feature against the table
 * before any handler here runs.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "checked.h"
#include "log.h"
#include "vu-dev-priv.h"

/* Transport features we implement (bit numbers). */
#define VU_TRANSPORT_FEATURES                                                                      \
	(VU_BIT(VIRTIO_F_VERSION_1_BIT) | VU_BIT(VIRTIO_F_NOTIFY_ON_EMPTY_BIT) |                   \
		VU_BIT(VIRTIO_RING_F_INDIRECT_DESC_BIT) | VU_BIT(VIRTIO_RING_F_EVENT_IDX_BIT) |    \
		VU_BIT(VHOST_USER_F_PROTOCOL_FEATURES_BIT))

/* Protocol features we implement (bit numbers). */
#define VU_OFFERED_PROTOCOL_FEATURES                                                               \
	(VU_BIT(VU_PROTOCOL_F_MQ) | VU_BIT(VU_PROTOCOL_F_REPLY_ACK) | VU_BIT(VU_PROTOCOL_F_CONFIG) | \
		VU_BIT(VU_PROTOCOL_F_RESET_DEVICE) | VU_BIT(VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |   \
		VU_BIT(VU_PROTOCOL_F_STATUS))

static struct vu_vring *msg_vring(struct vu_dev *dev, const struct vu_msg *msg,
	enum vu_index_rule rule)
{
	uint32_t idx = rule == INDEX_FILE ? (uint32_t)(msg->payload.u64 & VU_VRING_IDX_MASK)
					  : msg->payload.state.index;
	return &dev->vrings[idx];
}

/* ---- handlers ---- */

static int handle_get_features(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	reply->payload.u64 = dev->config.ops->get_features(dev->config.opaque) | VU_TRANSPORT_FEATURES;
	reply->hdr.size = sizeof(uint64_t);
	return 0;
}

static int handle_set_features(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	uint64_t features = msg->payload.u64;

	/*
	 * QEMU forwards the guest's transport bits without filtering them
	 * through our offer (e.g. RING_RESET): accept and ignore unknown ones.
	 */
	dev->acked_features = features;
	for (unsigned int i = 0; i < dev->config.num_queues; i++) {
		struct vu_vring *vq = &dev->vrings[i];
		bool event_idx = vu_has_bit(features, VIRTIO_RING_F_EVENT_IDX_BIT);

		vq->indirect = vu_has_bit(features, VIRTIO_RING_F_INDIRECT_DESC_BIT);
		vq->notify_on_empty = vu_has_bit(features, VIRTIO_F_NOTIFY_ON_EMPTY_BIT);
		if (vq->event_idx != event_idx) {
			vq->event_idx = event_idx;
			if (vq->addr_set && vq->num) {
				vu_vring_map(vq); /* the ring sizes include the event fields now */
			}
		}
		/* without protocol features, rings are enabled as soon as features are set */
		if (!vu_has_bit(features, VHOST_USER_F_PROTOCOL_FEATURES_BIT)) {
			vq->enabled = true;
		}
	}
	if (dev->config.ops->set_features) {
		dev->config.ops->set_features(dev->config.opaque, features);
	}
	return 0;
}

static int handle_set_owner(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	dev->owner = true;
	return 0;
}

static int handle_reset_device(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	vu_dev_reset_rings(dev);
	dev->config.ops->reset(dev->config.opaque);
	dev->status = 0;
	return 0;
}

static int check_mem_table(const struct vu_dev *dev, const struct vu_msg *msg)
{
	uint32_t n = msg->payload.mem_table.nregions;

	if (n == 0 || n > VU_MEM_TABLE_MAX_REGIONS) {
		return -EINVAL;
	}
	if (msg->hdr.size != VU_MEM_TABLE_HDR_SIZE + n * sizeof(struct vu_mem_region)) {
		return -EINVAL;
	}
	return msg->nfds == n ? 0 : -EINVAL;
}

static int handle_set_mem_table(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	const struct vu_mem_table *table = &msg->payload.mem_table;
	struct vu_mem fresh;

	/* build the new table completely before the old one goes away */
	vu_mem_init(&fresh);
	for (uint32_t i = 0; i < table->nregions; i++) {
		int r = vu_mem_add(&fresh, &table->regions[i], msg->fds[i], VU_MEM_TABLE_MAX_REGIONS);

		if (r < 0) {
			log_frontend("SET_MEM_TABLE: region %u refused: %s", i, strerror(-r));
			vu_mem_finish(&fresh);
			return r;
		}
	}
	vu_mem_replace(&dev->mem, &fresh);
	vu_dev_vrings_remap(dev);
	return 0;
}

static int handle_set_vring_num(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	struct vu_vring *vq = msg_vring(dev, msg, INDEX_STATE);

	if (vq->started || !vu_vring_num_valid(msg->payload.state.num)) {
		return -EINVAL;
	}
	vq->num = (uint16_t)msg->payload.state.num;
	if (vq->addr_set) {
		vu_vring_map(vq);
	}
	return 0;
}

static int handle_set_vring_addr(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	struct vu_vring *vq = msg_vring(dev, msg, INDEX_STATE);
	const struct vu_vring_addr *addr = &msg->payload.addr;

	if (vq->started || !vu_vring_addr_valid(addr)) {
		return -EINVAL;
	}
	if (addr->flags & 1u) {
		return -ENOTSUP; /* VHOST_VRING_F_LOG: we offer no dirty logging */
	}
	vq->addr = *addr;
	vq->addr_set = true;
	if (vq->num && vu_vring_map(vq) == 0) {
		/* continue from what the guest has already seen used */
		vq->used_idx = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED));
		vq->signalled_used_valid = false;
	}
	return 0;
}

static int handle_set_vring_base(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	struct vu_vring *vq = msg_vring(dev, msg, INDEX_STATE);

	/* split rings: the upper half would be the packed-ring wrap state */
	if (vq->started || msg->payload.state.num > 0xffff) {
		return -EINVAL;
	}
	vq->last_avail_idx = (uint16_t)msg->payload.state.num;
	vq->used_idx = vq->last_avail_idx;
	return 0;
}

static int handle_get_vring_base(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	unsigned int qidx = msg->payload.state.index;
	struct vu_vring *vq = &dev->vrings[qidx];

	vu_dev_vring_stop(dev, qidx);
	reply->payload.state.index = qidx;
	reply->payload.state.num = vq->last_avail_idx;
	reply->hdr.size = sizeof(reply->payload.state);
	/* like libvhost-user: the call fd is forgotten; the frontend sends a new one */
	if (vq->call_fd >= 0) {
		close(vq->call_fd);
		vq->call_fd = -1;
	}
	vq->broken = false;
	return 0;
}

static int check_vring_file(const struct vu_dev *dev, const struct vu_msg *msg)
{
	bool nofd = (msg->payload.u64 & VU_VRING_NOFD_MASK) != 0;

	return msg->nfds == (nofd ? 0u : 1u) ? 0 : -EINVAL;
}

static int handle_set_vring_kick(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	unsigned int qidx = (unsigned int)(msg->payload.u64 & VU_VRING_IDX_MASK);
	struct vu_vring *vq = &dev->vrings[qidx];
	int fd;

	vu_dev_vring_unwatch(dev, qidx);
	if (vq->kick_fd >= 0) {
		close(vq->kick_fd);
		vq->kick_fd = -1;
	}
	if (msg->nfds == 0) {
		/* "no fd" would mean polling the ring; we never busy-poll */
		log_frontend("queue %u: kick without an eventfd is not supported", qidx);
		vq->started = false;
		return -ENOTSUP;
	}
	fd = vu_msg_take_fd(msg, 0);
	vq->kick_fd = fd;
	if (vu_vring_map(vq) < 0) {
		log_frontend("queue %u: started before its ring is inside guest memory", qidx);
		vq->started = false;
		return -EFAULT;
	}
	if (vu_dev_vring_watch(dev, qidx) < 0) {
		return -errno;
	}
	vq->started = true;
	vq->broken = false;
	/* anything the guest queued before the kick fd arrived is handled now */
	vu_dev_vring_process(dev, qidx);
	return 0;
}

static int handle_set_vring_call(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	struct vu_vring *vq = msg_vring(dev, msg, INDEX_FILE);

	if (vq->call_fd >= 0) {
		close(vq->call_fd);
	}
	vq->call_fd = vu_msg_take_fd(msg, 0);
	vq->signalled_used_valid = false;
	return 0;
}

static int handle_set_vring_err(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	struct vu_vring *vq = msg_vring(dev, msg, INDEX_FILE);

	if (vq->err_fd >= 0) {
		close(vq->err_fd);
	}
	vq->err_fd = vu_msg_take_fd(msg, 0);
	return 0;
}

static int handle_get_protocol_features(struct vu_dev *dev, struct vu_msg *msg,
	struct vu_reply *reply)
{
	reply->payload.u64 = VU_OFFERED_PROTOCOL_FEATURES;
	reply->hdr.size = sizeof(uint64_t);
	return 0;
}

static int handle_set_protocol_features(struct vu_dev *dev, struct vu_msg *msg,
	struct vu_reply *reply)
{
	/* act only on what both sides have */
	dev->protocol_features = msg->payload.u64 & VU_OFFERED_PROTOCOL_FEATURES;
	return 0;
}

static int handle_get_queue_num(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	reply->payload.u64 = dev->config.num_queues;
	reply->hdr.size = sizeof(uint64_t);
	return 0;
}

static int handle_set_vring_enable(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	unsigned int qidx = msg->payload.state.index;
	uint32_t enable = msg->payload.state.num;

	if (enable > 1) {
		return -EINVAL;
	}
	dev->vrings[qidx].enabled = enable == 1;
	if (enable) {
		vu_dev_vring_process(dev, qidx);
	}
	return 0;
}

static int check_config(const struct vu_dev *dev, const struct vu_msg *msg)
{
	const struct vu_config *cfg = &msg->payload.config;

	if (cfg->size > VU_CONFIG_MAX_SIZE || msg->hdr.size != VU_CONFIG_HDR_SIZE + cfg->size) {
		return -EINVAL;
	}
	return 0;
}

static bool config_range_ok(const struct vu_dev *dev, const struct vu_config *cfg)
{
	return cfg->size > 0 && range_within(cfg->offset, cfg->size, dev->config.config_size);
}

static int handle_get_config(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	const struct vu_config *cfg = &msg->payload.config;

	reply->payload.config.offset = cfg->offset;
	reply->payload.config.size = cfg->size;
	reply->payload.config.flags = cfg->flags;
	if (!config_range_ok(dev, cfg)) {
		/* a reply without config bytes tells the frontend it failed */
		log_frontend("GET_CONFIG outside the config space (offset %u, size %u)", cfg->offset,
			cfg->size);
		reply->hdr.size = 0;
		return 0;
	}
	dev->config.ops->get_config(dev->config.opaque, reply->payload.config.region, cfg->offset,
		cfg->size);
	reply->hdr.size = VU_CONFIG_HDR_SIZE + cfg->size;
	return 0;
}

static int handle_set_config(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	const struct vu_config *cfg = &msg->payload.config;

	if (!config_range_ok(dev, cfg)) {
		return -EINVAL;
	}
	if (dev->config.ops->set_config) {
		dev->config.ops->set_config(dev->config.opaque, cfg->region, cfg->offset, cfg->size);
	}
	return 0;
}

static int handle_gpu_set_socket(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	int fd = vu_msg_take_fd(msg, 0);

	if (!dev->config.ops->set_device_socket) {
		close(fd);
		return -ENOTSUP;
	}
	return dev->config.ops->set_device_socket(dev->config.opaque, fd);
}

static int handle_get_max_mem_slots(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	reply->payload.u64 = VU_MAX_MEM_SLOTS;
	reply->hdr.size = sizeof(uint64_t);
	return 0;
}

static int handle_add_mem_reg(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	int r = vu_mem_add(&dev->mem, &msg->payload.mem_reg.region, msg->fds[0], VU_MAX_MEM_SLOTS);

	if (r < 0) {
		log_frontend("ADD_MEM_REG refused: %s", strerror(-r));
		return r;
	}
	vu_dev_vrings_remap(dev);
	return 0;
}

static int handle_rem_mem_reg(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	int r = vu_mem_remove(&dev->mem, &msg->payload.mem_reg.region);

	if (r < 0) {
		log_frontend("REM_MEM_REG: no such region");
		return r;
	}
	vu_dev_vrings_remap(dev);
	return 0;
}

static int handle_set_status(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	if (msg->payload.u64 > 0xff) {
		return -EINVAL;
	}
	/*
	 * Only recorded: QEMU also sends status 0 when the VM merely pauses,
	 * and a pause must not lose the guest's resources.
	 */
	dev->status = (uint8_t)msg->payload.u64;
	return 0;
}

static int handle_get_status(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply)
{
	reply->payload.u64 = dev->status;
	reply->hdr.size = sizeof(uint64_t);
	return 0;
}

/* ---- the request table ---- */

#define UNSUPPORTED(id, own_reply)                                                                 \
	[id] = { .name = #id, .size_rule = SIZE_ANY, .max_fds = VU_MAX_FDS,                        \
		.reply_rule = (own_reply) ? REPLY_OWN : REPLY_ACK,                                 \
		.protocol_feature = NO_PROTOCOL_FEATURE }

const struct vu_request_entry vu_request_table[VU_REQ_MAX] = {
	[VU_REQ_GET_FEATURES] = { "GET_FEATURES", handle_get_features, 0, SIZE_EXACT, 0, 0,
		INDEX_NONE, REPLY_OWN, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_FEATURES] = { "SET_FEATURES", handle_set_features, 8, SIZE_EXACT, 0, 0,
		INDEX_NONE, REPLY_ACK, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_OWNER] = { "SET_OWNER", handle_set_owner, 0, SIZE_EXACT, 0, 0, INDEX_NONE,
		REPLY_ACK, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_RESET_OWNER] = { "RESET_OWNER", handle_reset_device, 0, SIZE_EXACT, 0, 0,
		INDEX_NONE, REPLY_ACK, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_MEM_TABLE] = { "SET_MEM_TABLE", handle_set_mem_table, VU_MEM_TABLE_HDR_SIZE,
		SIZE_MIN, 1, VU_MEM_TABLE_MAX_REGIONS, INDEX_NONE, REPLY_ACK, NO_PROTOCOL_FEATURE,
		check_mem_table },
	[VU_REQ_SET_LOG_BASE] = { "SET_LOG_BASE", NULL, 16, SIZE_EXACT, 0, 1, INDEX_NONE,
		REPLY_OWN, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_LOG_FD] = { "SET_LOG_FD", NULL, 0, SIZE_EXACT, 0, 1, INDEX_NONE, REPLY_ACK,
		NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_VRING_NUM] = { "SET_VRING_NUM", handle_set_vring_num, 8, SIZE_EXACT, 0, 0,
		INDEX_STATE, REPLY_ACK, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_VRING_ADDR] = { "SET_VRING_ADDR", handle_set_vring_addr, 40, SIZE_EXACT, 0, 0,
		INDEX_STATE, REPLY_ACK, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_VRING_BASE] = { "SET_VRING_BASE", handle_set_vring_base, 8, SIZE_EXACT, 0, 0,
		INDEX_STATE, REPLY_ACK, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_GET_VRING_BASE] = { "GET_VRING_BASE", handle_get_vring_base, 8, SIZE_EXACT, 0, 0,
		INDEX_STATE, REPLY_OWN, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_VRING_KICK] = { "SET_VRING_KICK", handle_set_vring_kick, 8, SIZE_EXACT, 0, 1,
		INDEX_FILE, REPLY_ACK, NO_PROTOCOL_FEATURE, check_vring_file },
	[VU_REQ_SET_VRING_CALL] = { "SET_VRING_CALL", handle_set_vring_call, 8, SIZE_EXACT, 0, 1,
		INDEX_FILE, REPLY_ACK, NO_PROTOCOL_FEATURE, check_vring_file },
	[VU_REQ_SET_VRING_ERR] = { "SET_VRING_ERR", handle_set_vring_err, 8, SIZE_EXACT, 0, 1,
		INDEX_FILE, REPLY_ACK, NO_PROTOCOL_FEATURE, check_vring_file },
	[VU_REQ_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES", handle_get_protocol_features,
		0, SIZE_EXACT, 0, 0, INDEX_NONE, REPLY_OWN, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES", handle_set_protocol_features,
		8, SIZE_EXACT, 0, 0, INDEX_NONE, REPLY_ACK, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_GET_QUEUE_NUM] = { "GET_QUEUE_NUM", handle_get_queue_num, 0, SIZE_EXACT, 0, 0,
		INDEX_NONE, REPLY_OWN, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_SET_VRING_ENABLE] = { "SET_VRING_ENABLE", handle_set_vring_enable, 8, SIZE_EXACT,
		0, 0, INDEX_STATE, REPLY_ACK, NO_PROTOCOL_FEATURE, NULL },
	UNSUPPORTED(VU_REQ_SEND_RARP, false),
	UNSUPPORTED(VU_REQ_NET_SET_MTU, false),
	UNSUPPORTED(VU_REQ_SET_BACKEND_REQ_FD, false),
	UNSUPPORTED(VU_REQ_IOTLB_MSG, true),
	UNSUPPORTED(VU_REQ_SET_VRING_ENDIAN, false),
	[VU_REQ_GET_CONFIG] = { "GET_CONFIG", handle_get_config, VU_CONFIG_HDR_SIZE, SIZE_MIN, 0,
		0, INDEX_NONE, REPLY_OWN, VU_PROTOCOL_F_CONFIG, check_config },
	[VU_REQ_SET_CONFIG] = { "SET_CONFIG", handle_set_config, VU_CONFIG_HDR_SIZE, SIZE_MIN, 0,
		0, INDEX_NONE, REPLY_ACK, VU_PROTOCOL_F_CONFIG, check_config },
	UNSUPPORTED(VU_REQ_CREATE_CRYPTO_SESSION, true),
	UNSUPPORTED(VU_REQ_CLOSE_CRYPTO_SESSION, false),
	UNSUPPORTED(VU_REQ_POSTCOPY_ADVISE, true),
	UNSUPPORTED(VU_REQ_POSTCOPY_LISTEN, false),
	UNSUPPORTED(VU_REQ_POSTCOPY_END, true),
	UNSUPPORTED(VU_REQ_GET_INFLIGHT_FD, true),
	UNSUPPORTED(VU_REQ_SET_INFLIGHT_FD, false),
	[VU_REQ_GPU_SET_SOCKET] = { "GPU_SET_SOCKET", handle_gpu_set_socket, 0, SIZE_EXACT, 1, 1,
		INDEX_NONE, REPLY_ACK, NO_PROTOCOL_FEATURE, NULL },
	[VU_REQ_RESET_DEVICE] = { "RESET_DEVICE", handle_reset_device, 0, SIZE_EXACT, 0, 0,
		INDEX_NONE, REPLY_ACK, VU_PROTOCOL_F_RESET_DEVICE, NULL },
	UNSUPPORTED(VU_REQ_VRING_KICK, false),
	[VU_REQ_GET_MAX_MEM_SLOTS] = { "GET_MAX_MEM_SLOTS", handle_get_max_mem_slots, 0,
		SIZE_EXACT, 0, 0, INDEX_NONE, REPLY_OWN, VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS, NULL },
	[VU_REQ_ADD_MEM_REG] = { "ADD_MEM_REG", handle_add_mem_reg, 40, SIZE_EXACT, 1, 1,
		INDEX_NONE, REPLY_ACK, VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS, NULL },
	/* REM_MEM_REG should carry no fd; QEMU once sent one, so tolerate and close it */
	[VU_REQ_REM_MEM_REG] = { "REM_MEM_REG", handle_rem_mem_reg, 40, SIZE_EXACT, 0, 1,
		INDEX_NONE, REPLY_ACK, VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS, NULL },
	[VU_REQ_SET_STATUS] = { "SET_STATUS", handle_set_status, 8, SIZE_EXACT, 0, 0, INDEX_NONE,
		REPLY_ACK, VU_PROTOCOL_F_STATUS, NULL },
	[VU_REQ_GET_STATUS] = { "GET_STATUS", handle_get_status, 0, SIZE_EXACT, 0, 0, INDEX_NONE,
		REPLY_OWN, VU_PROTOCOL_F_STATUS, NULL },
	UNSUPPORTED(VU_REQ_GET_SHARED_OBJECT, true),
	UNSUPPORTED(VU_REQ_SET_DEVICE_STATE_FD, true),
	UNSUPPORTED(VU_REQ_CHECK_DEVICE_STATE, true),
	UNSUPPORTED(VU_REQ_GET_SHMEM_CONFIG, true),
};

const char *vu_request_name(uint32_t request)
{
	if (request >= VU_REQ_MAX || !vu_request_table[request].name) {
		return NULL;
	}
	return vu_request_table[request].name;
}

