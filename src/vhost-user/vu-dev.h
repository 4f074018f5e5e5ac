/* SPDX-License-Identifier: MIT */
/*
 * One vhost-user device session: the request table, the dispatcher that
 * checks every message against it before a handler runs, the feature and
 * ring state machine, and guest memory. It knows nothing of GPUs: the device
 * plugs in through struct vu_device_ops.
 *
 * Frontend errors never end the daemon: a bad request gets a failure reply,
 * and a frontend that breaks the protocol is disconnected; all session state
 * is freed and the owner may attach the next connection.
 */
#ifndef VDG_VU_DEV_H
#define VDG_VU_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "event-loop.h"
#include "vu-mem.h"
#include "vu-msg.h"
#include "vu-vring.h"

/* Most virtqueues a device may have (the GPU has two). */
#define VU_MAX_QUEUES 8

struct vu_dev;

/* What the device (virtio-gpu) provides. All callbacks run on the loop thread. */
struct vu_device_ops {
	/* Device feature bits (VIRGL, EDID, ...); transport bits are added by vu-dev. */
	uint64_t (*get_features)(void *opaque);
	/* The frontend acked these features (device and transport bits). */
	void (*set_features)(void *opaque, uint64_t features);
	/* Config space read/write; offset+len already checked against config_size. */
	void (*get_config)(void *opaque, uint8_t *buf, uint32_t offset, uint32_t len);
	void (*set_config)(void *opaque, const uint8_t *buf, uint32_t offset, uint32_t len);
	/* The queue has new requests (or became usable). */
	void (*queue_kick)(void *opaque, unsigned int qidx);
	/*
	 * The queue is about to stop (GET_VRING_BASE, reset, disconnect): finish
	 * or drop what is in flight; the ring is not touched after this.
	 */
	void (*queue_stop)(void *opaque, unsigned int qidx);
	/* VHOST_USER_GPU_SET_SOCKET: takes ownership of fd. Returns 0 or -errno. */
	int (*set_device_socket)(void *opaque, int fd);
	/* Guest memory was remapped (optional): re-take host views of it. */
	void (*mem_changed)(void *opaque);
	/* Back to the initial state (RESET_DEVICE, RESET_OWNER, disconnect). */
	void (*reset)(void *opaque);
};

struct vu_dev_config {
	unsigned int num_queues;
	uint32_t config_size; /* bytes of device config space */
	const struct vu_device_ops *ops;
	void *opaque;
	/* Called after a session ended (EOF, protocol error), from the loop. */
	void (*on_disconnect)(void *data);
	void *disconnect_data;
};

struct vu_dev *vu_dev_create(struct event_loop *loop, const struct vu_dev_config *config);
/* Ends any session and frees the device (NULL is fine). */
void vu_dev_destroy(struct vu_dev *dev);

/* Starts a session on a connected socket (taken). Returns 0 or -errno. */
int vu_dev_attach(struct vu_dev *dev, int conn_fd);
/* Ends the session: stops rings, resets the device, unmaps memory, closes fds. */
void vu_dev_detach(struct vu_dev *dev);
bool vu_dev_connected(const struct vu_dev *dev);

/*
 * Runs one complete message through the dispatcher (the message's fds are
 * consumed). Replies go to the session socket. Returns 0, or -errno when the
 * session must end. Exposed for unit tests and fuzzers.
 */
int vu_dev_dispatch(struct vu_dev *dev, struct vu_msg *msg);

struct vu_vring *vu_dev_vring(struct vu_dev *dev, unsigned int qidx);
const struct vu_mem *vu_dev_mem(const struct vu_dev *dev);
uint64_t vu_dev_acked_features(const struct vu_dev *dev);
uint64_t vu_dev_protocol_features(const struct vu_dev *dev);

/* The request table, for tests: name of an id, NULL if unknown. */
const char *vu_request_name(uint32_t request);

#endif /* VDG_VU_DEV_H */
