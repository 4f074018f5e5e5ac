/* SPDX-License-Identifier: MIT */
/* Shared by vu-dev.c (session, dispatcher) and vu-requests.c (the request table). */
#ifndef VDG_VU_DEV_PRIV_H
#define VDG_VU_DEV_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "vu-dev.h"

struct vu_dev {
	struct event_loop *loop;
	struct vu_dev_config config;

	/* session state, reset by vu_dev_detach() */
	int conn_fd;
	struct event_source *conn_src;
	struct vu_msg_reader reader;
	struct vu_mem mem;
	struct vu_vring vrings[VU_MAX_QUEUES];
	struct event_source *kick_src[VU_MAX_QUEUES];
	struct vu_kick_ctx {
		struct vu_dev *dev;
		unsigned int qidx;
	} kick_ctx[VU_MAX_QUEUES];
	uint64_t acked_features;
	uint64_t protocol_features;
	uint8_t status;
	bool owner;
};

struct vu_reply {
	struct vu_msg_header hdr;
	union {
		uint8_t bytes[VU_MAX_PAYLOAD];
		uint64_t u64;
		struct vu_vring_state state;
		struct vu_config config;
	} payload;
};

enum vu_size_rule {
	SIZE_EXACT,
	SIZE_MIN, /* at least .size; the entry's check() verifies the rest */
	SIZE_ANY,
};

enum vu_index_rule {
	INDEX_NONE,
	INDEX_STATE, /* struct vu_vring_state / vu_vring_addr: u32 index first */
	INDEX_FILE,  /* u64 with the index in bits 0-7 */
};

enum vu_reply_rule {
	REPLY_ACK, /* u64 status only when NEED_REPLY and REPLY_ACK were negotiated */
	REPLY_OWN, /* the handler fills a reply that is always sent */
};

#define NO_PROTOCOL_FEATURE 0xff

/*
 * Handlers return 0 or -errno. For REPLY_ACK requests an error becomes a
 * failure ack; for REPLY_OWN requests an error ends the session, because
 * the frontend waits for a reply of a shape we cannot give.
 */
typedef int (*vu_handler_fn)(struct vu_dev *dev, struct vu_msg *msg, struct vu_reply *reply);

struct vu_request_entry {
	const char *name;
	vu_handler_fn handle; /* NULL: recognised but not supported */
	uint32_t size;
	enum vu_size_rule size_rule;
	uint8_t min_fds;
	uint8_t max_fds;
	enum vu_index_rule index_rule;
	enum vu_reply_rule reply_rule;
	uint8_t protocol_feature; /* must be negotiated, or NO_PROTOCOL_FEATURE */
	/* Shape checks that depend on the payload (variable sizes, fd counts). */
	int (*check)(const struct vu_dev *dev, const struct vu_msg *msg);
};

extern const struct vu_request_entry vu_request_table[VU_REQ_MAX];

/* Session helpers the handlers use (vu-dev.c). */
void vu_dev_vring_stop(struct vu_dev *dev, unsigned int qidx);
void vu_dev_vring_unwatch(struct vu_dev *dev, unsigned int qidx);
int vu_dev_vring_watch(struct vu_dev *dev, unsigned int qidx);
void vu_dev_vring_process(struct vu_dev *dev, unsigned int qidx);
void vu_dev_vrings_remap(struct vu_dev *dev);
void vu_dev_reset_rings(struct vu_dev *dev);

#endif /* VDG_VU_DEV_PRIV_H */
