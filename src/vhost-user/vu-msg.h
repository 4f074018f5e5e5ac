/* SPDX-License-Identifier: MIT */
/*
 * One vhost-user message with its fds, read from a non-blocking socket in
 * as many pieces as the peer sends it, so a frontend that stalls mid-message
 * never blocks the event loop.
 */
#ifndef VDG_VU_MSG_H
#define VDG_VU_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "vu-proto.h"

struct vu_msg {
	struct vu_msg_header hdr;
	union {
		uint8_t bytes[VU_MAX_PAYLOAD];
		uint64_t u64;
		struct vu_vring_state state;
		struct vu_vring_addr addr;
		struct vu_mem_table mem_table;
		struct vu_single_mem_region mem_reg;
		struct vu_config config;
	} payload;
	/* Received fds: owned by the message until a handler takes one (sets it to -1). */
	int fds[VU_MAX_FDS];
	size_t nfds;
};

struct vu_msg_reader {
	struct vu_msg msg;
	size_t have; /* bytes of header + payload received so far */
};

void vu_msg_reader_init(struct vu_msg_reader *reader);

/*
 * Reads what the socket has. Returns 1 when reader->msg is complete (the
 * caller handles it, then calls vu_msg_reader_init() again), 0 if more bytes
 * are needed, -ECONNRESET on EOF, -EPROTO for a message we must refuse
 * (bad version or flags, payload over VU_MAX_PAYLOAD, too many fds), or
 * another -errno. On any error every received fd is closed.
 */
int vu_msg_reader_read(struct vu_msg_reader *reader, int fd);

/* Closes every fd the message still owns. */
void vu_msg_close_fds(struct vu_msg *msg);

/* Takes fd number i out of the message (-1 if there is none). */
int vu_msg_take_fd(struct vu_msg *msg, size_t i);

/* Checks a header on its own: version 1, no REPLY bit, size within limits. */
int vu_msg_header_check(const struct vu_msg_header *hdr);

#endif /* VDG_VU_MSG_H */
