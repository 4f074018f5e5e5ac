/* SPDX-License-Identifier: MIT */
/*
 * Control-socket framing (raw messages with fds, bounded reads) and the
 * central wait loop that serves the display socket and the call eventfds
 * while waiting for replies or used-ring entries.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frontend.h"

static bool is_closed_errno(int e)
{
	return e == EPIPE || e == ECONNRESET || e == ENOTCONN;
}

static int timeout_of(const struct vdgfe *fe, int timeout_ms)
{
	return timeout_ms < 0 ? fe->cfg.timeout_ms : timeout_ms;
}

int vdgfe_recv_exact(int fd, void *buf, size_t len, int *fds, unsigned int *nfds,
	unsigned int max_fds, int timeout_ms)
{
	uint8_t *p = buf;
	size_t got = 0;
	int64_t deadline = vdgfe_now_ms() + timeout_ms;

	while (got < len) {
		char cbuf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
		struct iovec iov = { .iov_base = p + got, .iov_len = len - got };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = cbuf,
			.msg_controllen = sizeof(cbuf),
		};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n > 0) {
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
					continue;
				}
				size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				int tmp[VU_MAX_FDS];

				memcpy(tmp, CMSG_DATA(c), k * sizeof(int));
				for (size_t i = 0; i < k; i++) {
					if (fds && *nfds < max_fds) {
						fds[(*nfds)++] = tmp[i];
					} else {
						close(tmp[i]);
					}
				}
			}
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			return -ECONNRESET;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return -ECONNRESET;
		}
		int64_t left = deadline - vdgfe_now_ms();

		if (left <= 0) {
			return -ETIMEDOUT;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

/* ---- framing ----------------------------------------------------------------- */

int vdgfe_send_bytes(struct vdgfe *fe, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t sent = 0;
	int64_t deadline = vdgfe_now_ms() + fe->cfg.timeout_ms;

	while (sent < len) {
		ssize_t n = send(fe->sock, p + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno == EINTR) {
			continue;
		}
		if (is_closed_errno(errno)) {
			return VDGFE_ERR_CLOSED;
		}
		if (errno != EAGAIN) {
			return -errno;
		}
		if (vdgfe_now_ms() >= deadline) {
			return -ETIMEDOUT;
		}
		struct pollfd pfd = { .fd = fe->sock, .events = POLLOUT };

		poll(&pfd, 1, 10);
	}
	return 0;
}

int vdgfe_send_raw(struct vdgfe *fe, uint32_t request, uint32_t flags, uint32_t hdr_size,
	const void *payload, size_t payload_len, const int *fds, unsigned int nfds)
{
	struct vu_msg_header hdr = { .request = request, .flags = flags, .size = hdr_size };
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = payload_len },
	};
	char cbuf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS * 4)];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = payload_len ? 2 : 1 };
	ssize_t n;

	if (nfds > VU_MAX_FDS * 4) {
		return -EINVAL;
	}
	if (nfds) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	vdgfe_log(fe, "-> req %u flags 0x%x size %u (+%zu bytes, %u fds)", request, flags,
		hdr_size, payload_len, nfds);
	fe->msgs_sent++;
	for (;;) {
		n = sendmsg(fe->sock, &mh, MSG_NOSIGNAL);
		if (n >= 0 || errno != EINTR) {
			break;
		}
	}
	if (n < 0 && errno == EAGAIN) {
		/* Socket buffer full: wait for room, then send everything with fds. */
		struct pollfd pfd = { .fd = fe->sock, .events = POLLOUT };

		if (poll(&pfd, 1, fe->cfg.timeout_ms) <= 0) {
			return -ETIMEDOUT;
		}
		n = sendmsg(fe->sock, &mh, MSG_NOSIGNAL);
	}
	if (n < 0) {
		return is_closed_errno(errno) ? VDGFE_ERR_CLOSED : -errno;
	}
	size_t total = sizeof(hdr) + payload_len;

	if ((size_t)n < total) {
		/* The rest without fds (they rode on the first byte). */
		uint8_t *all = malloc(total);
		int r;

		if (!all) {
			return -ENOMEM;
		}
		memcpy(all, &hdr, sizeof(hdr));
		if (payload_len) {
			memcpy(all + sizeof(hdr), payload, payload_len);
		}
		r = vdgfe_send_bytes(fe, all + n, total - (size_t)n);
		free(all);
		return r;
	}
	return 0;
}

int vdgfe_shutdown_write(struct vdgfe *fe)
{
	return shutdown(fe->sock, SHUT_WR) < 0 ? -errno : 0;
}

static int ctrl_ready(struct vdgfe *fe, void *arg)
{
	struct pollfd pfd = { .fd = fe->sock, .events = POLLIN };

	(void)arg;
	return poll(&pfd, 1, 0) > 0 ? 1 : 0;
}

int vdgfe_recv_raw(struct vdgfe *fe, struct vu_msg_header *hdr, void *payload, size_t cap,
	int *fds, unsigned int *nfds, int timeout_ms)
{
	unsigned int dummy = 0;
	int r;

	if (!nfds) {
		nfds = &dummy;
	}
	*nfds = 0;
	fe->wait_ctrl = true;
	r = vdgfe_wait(fe, ctrl_ready, NULL, timeout_ms);
	fe->wait_ctrl = false;
	if (r < 0) {
		return r;
	}
	r = vdgfe_recv_exact(fe->sock, hdr, sizeof(*hdr), fds, nfds, fds ? VU_MAX_FDS : 0,
		fe->cfg.timeout_ms);
	if (r == -ECONNRESET) {
		return VDGFE_ERR_CLOSED;
	}
	if (r < 0) {
		return r;
	}
	size_t want = hdr->size < cap ? hdr->size : cap;

	r = vdgfe_recv_exact(fe->sock, payload, want, fds, nfds, fds ? VU_MAX_FDS : 0,
		fe->cfg.timeout_ms);
	/* Drain what did not fit. */
	for (size_t left = hdr->size - want; r == 0 && left > 0;) {
		uint8_t junk[256];
		size_t n = left < sizeof(junk) ? left : sizeof(junk);

		r = vdgfe_recv_exact(fe->sock, junk, n, fds, nfds, fds ? VU_MAX_FDS : 0,
			fe->cfg.timeout_ms);
		left -= n;
	}
	if (r == -ECONNRESET) {
		return VDGFE_ERR_CLOSED;
	}
	if (r < 0) {
		return r;
	}
	vdgfe_log(fe, "<- req %u flags 0x%x size %u", hdr->request, hdr->flags, hdr->size);
	return (int)(hdr->size > INT32_MAX ? INT32_MAX : hdr->size);
}

static int ctrl_eof(struct vdgfe *fe, void *arg)
{
	char c;
	ssize_t n;

	(void)arg;
	n = recv(fe->sock, &c, 1, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && is_closed_errno(errno))) {
		return 1;
	}
	return 0;
}

int vdgfe_wait_closed(struct vdgfe *fe, int timeout_ms)
{
	int r;

	fe->wait_ctrl = true;
	r = vdgfe_wait(fe, ctrl_eof, NULL, timeout_ms);
	fe->wait_ctrl = false;
	return r;
}

/* ---- the wait loop ---------------------------------------------------------------- */

int vdgfe_service(struct vdgfe *fe)
{
	int r = vdgfe_sink_service(&fe->sink, fe->cfg.timeout_ms);

	if (r < 0 && r != -ECONNRESET) {
		return r;
	}
	return r < 0 ? 0 : r;
}

static void drain_eventfd(int fd)
{
	uint64_t v;

	if (fd >= 0 && read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending. */
	}
}

int vdgfe_wait(struct vdgfe *fe, int (*done)(struct vdgfe *fe, void *arg), void *arg,
	int timeout_ms)
{
	int64_t deadline = vdgfe_now_ms() + timeout_of(fe, timeout_ms);
	unsigned int spins = 0;

	for (;;) {
		int r = done(fe, arg);

		if (r) {
			return r < 0 ? r : 0;
		}
		r = vdgfe_service(fe);
		if (r < 0) {
			return r;
		}
		if (r > 0) {
			continue;
		}
		int64_t left = deadline - vdgfe_now_ms();

		if (left <= 0) {
			return -ETIMEDOUT;
		}
		struct pollfd pfd[2 + VDGFE_NUM_QUEUES];
		nfds_t n = 0;

		pfd[n].fd = fe->sock;
		pfd[n].events = (short)(POLLRDHUP | (fe->wait_ctrl ? POLLIN : 0));
		n++;
		if (fe->sink.fd >= 0 && !fe->sink.closed) {
			pfd[n].fd = fe->sink.fd;
			pfd[n].events = POLLIN;
			n++;
		}
		for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
			if (fe->vqs[q].call_fd >= 0) {
				pfd[n].fd = fe->vqs[q].call_fd;
				pfd[n].events = POLLIN;
				n++;
			}
		}
		if (fe->cfg.spin) {
			/* Busy-check; look at the sockets' hang-up state now and then only. */
			if ((++spins & 0x3ff) != 0) {
				continue;
			}
			left = 0;
		}
		r = poll(pfd, n, (int)left);
		if (r < 0 && errno != EINTR) {
			return -errno;
		}
		if (r <= 0) {
			continue;
		}
		if (!fe->wait_ctrl && (pfd[0].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
			/* The back-end went away while we waited for something else. */
			if (done(fe, arg)) {
				continue;
			}
			return VDGFE_ERR_CLOSED;
		}
		for (nfds_t i = 1; i < n; i++) {
			if ((pfd[i].revents & POLLIN) && pfd[i].fd != fe->sink.fd) {
				drain_eventfd(pfd[i].fd);
			}
		}
	}
}
