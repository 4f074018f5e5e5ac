/* SPDX-License-Identifier: MIT */
#include "vu-msg.h"

#include <errno.h>
#include <string.h>

#include "fd.h"

void vu_msg_reader_init(struct vu_msg_reader *reader)
{
	reader->have = 0;
	reader->msg.hdr = (struct vu_msg_header){ 0 };
	reader->msg.nfds = 0;
	for (size_t i = 0; i < VU_MAX_FDS; i++) {
		reader->msg.fds[i] = -1;
	}
}

void vu_msg_close_fds(struct vu_msg *msg)
{
	fd_close_all(msg->fds, msg->nfds);
	msg->nfds = 0;
}

int vu_msg_take_fd(struct vu_msg *msg, size_t i)
{
	int fd;

	if (i >= msg->nfds) {
		return -1;
	}
	fd = msg->fds[i];
	msg->fds[i] = -1;
	return fd;
}

int vu_msg_header_check(const struct vu_msg_header *hdr)
{
	if ((hdr->flags & VU_VERSION_MASK) != VU_VERSION) {
		return -EPROTO;
	}
	if (hdr->flags & VU_FLAG_REPLY) {
		return -EPROTO;
	}
	if (hdr->size > VU_MAX_PAYLOAD) {
		return -EPROTO;
	}
	return 0;
}

int vu_msg_reader_read(struct vu_msg_reader *reader, int fd)
{
	struct vu_msg *msg = &reader->msg;
	const size_t hdr_size = sizeof(msg->hdr);

	for (;;) {
		size_t want;
		uint8_t *dst;
		ssize_t n;

		if (reader->have < hdr_size) {
			want = hdr_size - reader->have;
			dst = (uint8_t *)&msg->hdr + reader->have;
		} else {
			size_t got = reader->have - hdr_size;

			if (got == msg->hdr.size) {
				return 1;
			}
			want = msg->hdr.size - got;
			dst = msg->payload.bytes + got;
		}
		/* never read past this message, so fds stay with the message they came with */
		n = fd_recv(fd, dst, want, msg->fds, &msg->nfds, VU_MAX_FDS);
		if (n == -EAGAIN) {
			return 0;
		}
		if (n < 0 || n == 0) {
			vu_msg_close_fds(msg);
			return n == 0 ? -ECONNRESET : (int)n;
		}
		reader->have += (size_t)n;
		if (reader->have == hdr_size) {
			int r = vu_msg_header_check(&msg->hdr);

			if (r < 0) {
				vu_msg_close_fds(msg);
				return r;
			}
		}
	}
}
