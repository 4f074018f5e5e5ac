/* SPDX-License-Identifier: MIT */
/*
 * A vhost-user session: reading messages, the dispatcher that checks each
 * one against the request table (vu-requests.c), rings and life cycle.
 */
#include "vu-dev-priv.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "checked.h"
#include "cleanup.h"
#include "fd.h"
#include "log.h"

/* A reply is small; a frontend that does not read it within this time is gone. */
#define VU_REPLY_TIMEOUT_MS 5000

/* ---- session helpers ---- */

void vu_dev_vring_unwatch(struct vu_dev *dev, unsigned int qidx)
{
	event_source_remove(dev->kick_src[qidx]);
	dev->kick_src[qidx] = NULL;
}

/* Stops a ring: the device finishes what it has, then we stop touching it. */
void vu_dev_vring_stop(struct vu_dev *dev, unsigned int qidx)
{
	struct vu_vring *vq = &dev->vrings[qidx];

	if (vq->started && dev->config.ops->queue_stop) {
		dev->config.ops->queue_stop(dev->config.opaque, qidx);
	}
	vu_dev_vring_unwatch(dev, qidx);
	vq->started = false;
	if (vq->kick_fd >= 0) {
		close(vq->kick_fd);
		vq->kick_fd = -1;
	}
}

void vu_dev_vring_process(struct vu_dev *dev, unsigned int qidx)
{
	if (vu_vring_usable(&dev->vrings[qidx])) {
		dev->config.ops->queue_kick(dev->config.opaque, qidx);
	}
}

static void on_kick(void *data, int fd, uint32_t events)
{
	struct vu_kick_ctx *ctx = data;
	uint64_t value;

	/* eventfd: one read drains every kick that arrived */
	if (read(fd, &value, sizeof(value)) < 0 && errno != EAGAIN) {
		log_debug("queue %u: kick read failed", ctx->qidx);
	}
	vu_dev_vring_process(ctx->dev, ctx->qidx);
}

/* After a memory table change every running ring must be mapped again. */
void vu_dev_vrings_remap(struct vu_dev *dev)
{
	if (dev->config.ops->mem_changed) {
		dev->config.ops->mem_changed(dev->config.opaque);
	}
	for (unsigned int i = 0; i < dev->config.num_queues; i++) {
		struct vu_vring *vq = &dev->vrings[i];

		if (vq->addr_set && vq->num && vu_vring_map(vq) < 0 && vq->started) {
			log_frontend("queue %u: ring no longer inside guest memory", i);
			vq->broken = true;
		}
	}
}

void vu_dev_reset_rings(struct vu_dev *dev)
{
	for (unsigned int i = 0; i < dev->config.num_queues; i++) {
		vu_dev_vring_stop(dev, i);
		vu_vring_reset(&dev->vrings[i]);
	}
}

int vu_dev_vring_watch(struct vu_dev *dev, unsigned int qidx)
{
	int fd = dev->vrings[qidx].kick_fd;

	fd_set_nonblock(fd, true);
	dev->kick_src[qidx] = event_loop_add_fd(dev->loop, fd, EPOLLIN, on_kick, &dev->kick_ctx[qidx]);
	return dev->kick_src[qidx] ? 0 : -errno;
}

/* ---- dispatcher ---- */

static int send_reply(struct vu_dev *dev, const struct vu_msg *msg, struct vu_reply *reply)
{
	reply->hdr.request = msg->hdr.request;
	reply->hdr.flags = VU_VERSION | VU_FLAG_REPLY; /* exactly 0x5: QEMU rejects anything else */
	/* header and payload are apart in memory (the payload is 8-byte aligned) */
	struct iovec iov[2] = {
		{ &reply->hdr, sizeof(reply->hdr) },
		{ reply->payload.bytes, reply->hdr.size },
	};
	return fd_sendv_all(dev->conn_fd, iov, 2, NULL, 0, VU_REPLY_TIMEOUT_MS);
}

static int send_u64_reply(struct vu_dev *dev, const struct vu_msg *msg, uint64_t value)
{
	struct vu_reply reply = { .hdr.size = sizeof(uint64_t) };

	reply.payload.u64 = value;
	return send_reply(dev, msg, &reply);
}

static bool ack_wanted(const struct vu_dev *dev, const struct vu_msg *msg)
{
	return (msg->hdr.flags & VU_FLAG_NEED_REPLY) &&
		vu_has_bit(dev->protocol_features, VU_PROTOCOL_F_REPLY_ACK);
}

/* Checks a message against its table entry. Returns 0 or -errno. */
static int request_check(const struct vu_dev *dev, const struct vu_request_entry *e,
	const struct vu_msg *msg)
{
	switch (e->size_rule) {
	case SIZE_EXACT:
		if (msg->hdr.size != e->size) {
			return -EMSGSIZE;
		}
		break;
	case SIZE_MIN:
		if (msg->hdr.size < e->size) {
			return -EMSGSIZE;
		}
		break;
	case SIZE_ANY:
		break;
	}
	if (msg->nfds < e->min_fds || msg->nfds > e->max_fds) {
		return -EBADF;
	}
	if (e->index_rule != INDEX_NONE) {
		uint32_t idx = e->index_rule == INDEX_FILE
			? (uint32_t)(msg->payload.u64 & VU_VRING_IDX_MASK)
			: msg->payload.state.index;

		if (idx >= dev->config.num_queues) {
			return -ERANGE;
		}
	}
	if (e->protocol_feature != NO_PROTOCOL_FEATURE &&
		!vu_has_bit(dev->protocol_features, e->protocol_feature)) {
		return -EPERM;
	}
	if (e->check) {
		return e->check(dev, msg);
	}
	return 0;
}

int vu_dev_dispatch(struct vu_dev *dev, struct vu_msg *msg)
{
	const struct vu_request_entry *e = NULL;
	struct vu_reply reply;
	int r;

	if (msg->hdr.request < VU_REQ_MAX && vu_request_table[msg->hdr.request].name) {
		e = &vu_request_table[msg->hdr.request];
	}
	log_trace("vhost-user request %u (%s), size %u, %zu fds", msg->hdr.request,
		e ? e->name : "unknown", msg->hdr.size, msg->nfds);

	if (!e || !e->handle) {
		bool need_reply = ack_wanted(dev, msg);

		vu_msg_close_fds(msg);
		log_frontend("request %u (%s) is not supported", msg->hdr.request,
			e ? e->name : "unknown");
		if (need_reply || (e && e->reply_rule == REPLY_OWN)) {
			return send_u64_reply(dev, msg, 1);
		}
		return 0;
	}

	r = request_check(dev, e, msg);
	if (r < 0) {
		vu_msg_close_fds(msg);
		log_frontend("%s refused: size %u, %zu fds: %s", e->name, msg->hdr.size, msg->nfds,
			strerror(-r));
		if (e->reply_rule == REPLY_OWN) {
			return -EPROTO; /* the frontend waits for a reply we cannot shape */
		}
		return ack_wanted(dev, msg) ? send_u64_reply(dev, msg, 1) : 0;
	}

	memset(&reply.hdr, 0, sizeof(reply.hdr));
	r = e->handle(dev, msg, &reply);
	vu_msg_close_fds(msg); /* whatever the handler did not take */
	if (e->reply_rule == REPLY_OWN) {
		return r < 0 ? r : send_reply(dev, msg, &reply);
	}
	if (r < 0) {
		log_debug("%s failed: %s", e->name, strerror(-r));
	}
	/* checked after the handler, as libvhost-user does: the message that
	 * negotiates REPLY_ACK may itself ask for one */
	return ack_wanted(dev, msg) ? send_u64_reply(dev, msg, r < 0 ? 1 : 0) : 0;
}

static void on_conn_event(void *data, int fd, uint32_t events)
{
	struct vu_dev *dev = data;

	/* a bounded number of messages per wake-up keeps the other sources served */
	for (int i = 0; i < 64 && dev->conn_fd >= 0; i++) {
		int r = vu_msg_reader_read(&dev->reader, dev->conn_fd);

		if (r == 0) {
			return;
		}
		if (r < 0) {
			if (r == -ECONNRESET) {
				log_info("frontend disconnected");
			} else {
				log_frontend("dropping the connection: %s", strerror(-r));
			}
			vu_dev_detach(dev);
			return;
		}
		r = vu_dev_dispatch(dev, &dev->reader.msg);
		vu_msg_reader_init(&dev->reader);
		if (r < 0) {
			log_frontend("dropping the connection after a protocol error: %s", strerror(-r));
			vu_dev_detach(dev);
			return;
		}
	}
}

/* ---- life cycle ---- */

struct vu_dev *vu_dev_create(struct event_loop *loop, const struct vu_dev_config *config)
{
	struct vu_dev *dev;

	if (config->num_queues == 0 || config->num_queues > VU_MAX_QUEUES ||
		config->config_size > VU_CONFIG_MAX_SIZE || !config->ops ||
		!config->ops->get_features || !config->ops->get_config || !config->ops->queue_kick ||
		!config->ops->reset) {
		errno = EINVAL;
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		return NULL;
	}
	dev->loop = loop;
	dev->config = *config;
	dev->conn_fd = -1;
	vu_mem_init(&dev->mem);
	for (unsigned int i = 0; i < VU_MAX_QUEUES; i++) {
		vu_vring_init(&dev->vrings[i], i, &dev->mem);
		dev->kick_ctx[i].dev = dev;
		dev->kick_ctx[i].qidx = i;
	}
	vu_msg_reader_init(&dev->reader);
	return dev;
}

void vu_dev_destroy(struct vu_dev *dev)
{
	if (!dev) {
		return;
	}
	dev->config.on_disconnect = NULL; /* the owner is going away too */
	vu_dev_detach(dev);
	free(dev);
}

int vu_dev_attach(struct vu_dev *dev, int conn_fd)
{
	if (dev->conn_fd >= 0) {
		close(conn_fd);
		return -EBUSY;
	}
	fd_set_nonblock(conn_fd, true);
	dev->conn_src = event_loop_add_fd(dev->loop, conn_fd, EPOLLIN, on_conn_event, dev);
	if (!dev->conn_src) {
		int r = -errno;
		close(conn_fd);
		return r;
	}
	dev->conn_fd = conn_fd;
	vu_msg_reader_init(&dev->reader);
	return 0;
}

void vu_dev_detach(struct vu_dev *dev)
{
	bool was_connected = dev->conn_fd >= 0;

	vu_dev_reset_rings(dev);
	dev->config.ops->reset(dev->config.opaque);
	vu_mem_finish(&dev->mem);
	vu_msg_close_fds(&dev->reader.msg);
	vu_msg_reader_init(&dev->reader);
	event_source_remove(dev->conn_src);
	dev->conn_src = NULL;
	if (dev->conn_fd >= 0) {
		close(dev->conn_fd);
		dev->conn_fd = -1;
	}
	dev->acked_features = 0;
	dev->protocol_features = 0;
	dev->status = 0;
	dev->owner = false;
	if (was_connected && dev->config.on_disconnect) {
		dev->config.on_disconnect(dev->config.disconnect_data);
	}
}

bool vu_dev_connected(const struct vu_dev *dev)
{
	return dev->conn_fd >= 0;
}

struct vu_vring *vu_dev_vring(struct vu_dev *dev, unsigned int qidx)
{
	return qidx < dev->config.num_queues ? &dev->vrings[qidx] : NULL;
}

const struct vu_mem *vu_dev_mem(const struct vu_dev *dev)
{
	return &dev->mem;
}

uint64_t vu_dev_acked_features(const struct vu_dev *dev)
{
	return dev->acked_features;
}

uint64_t vu_dev_protocol_features(const struct vu_dev *dev)
{
	return dev->protocol_features;
}
