/* SPDX-License-Identifier: MIT */
#include "fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

/* Enough control space for any message we accept, plus slack to detect more. */
#define FD_RECV_CMSG_FDS 16

int fd_set_nonblock(int fd, bool nonblock)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0) {
		return -errno;
	}
	flags = nonblock ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	if (fcntl(fd, F_SETFL, flags) < 0) {
		return -errno;
	}
	return 0;
}

void fd_close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
}

ssize_t fd_recv(int fd, void *buf, size_t len, int *fds, size_t *nfds, size_t max_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FD_RECV_CMSG_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	int got[FD_RECV_CMSG_FDS];
	size_t ngot = 0;
	ssize_t n;
	bool bad = false;

	do {
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -errno;
	}

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int rfd;

			memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (ngot < FD_RECV_CMSG_FDS) {
				got[ngot++] = rfd;
			} else {
				close(rfd);
				bad = true;
			}
		}
	}
	if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
		bad = true;
	}
	if (bad || *nfds + ngot > max_fds) {
		fd_close_all(got, ngot);
		return -EPROTO;
	}
	memcpy(fds + *nfds, got, ngot * sizeof(int));
	*nfds += ngot;
	return n;
}

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fd_sendv_all(int fd, const struct iovec *iov_in, int iovcnt, const int *fds, size_t nfds,
	int timeout_ms)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FD_RECV_CMSG_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov[8];
	int first = 0;
	long long deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;

	if (iovcnt < 0 || iovcnt > (int)ARRAY_SIZE(iov) || nfds > FD_RECV_CMSG_FDS) {
		return -EINVAL;
	}
	memcpy(iov, iov_in, sizeof(iov[0]) * (size_t)iovcnt);
	if (nfds > 0) {
		size_t total = 0;

		for (int i = 0; i < iovcnt; i++) {
			total += iov[i].iov_len;
		}
		if (total == 0) {
			return -EINVAL; /* fds need at least one byte to ride on */
		}
	}

	while (first < iovcnt) {
		struct msghdr msg = {
			.msg_iov = iov + first,
			.msg_iovlen = (size_t)(iovcnt - first),
		};
		ssize_t n;

		if (iov[first].iov_len == 0) {
			first++;
			continue;
		}
		if (nfds > 0) {
			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno != EAGAIN) {
				return -errno;
			}
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int wait_ms = -1;
			if (deadline >= 0) {
				long long left = deadline - monotonic_ms();
				if (left <= 0) {
					return -ETIMEDOUT;
				}
				wait_ms = (int)left;
			}
			if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
				return -errno;
			}
			continue;
		}
		nfds = 0; /* fds ride only on the first chunk */
		size_t left = (size_t)n;
		while (first < iovcnt && left >= iov[first].iov_len) {
			left -= iov[first].iov_len;
			first++;
		}
		if (first < iovcnt) {
			iov[first].iov_base = (char *)iov[first].iov_base + left;
			iov[first].iov_len -= left;
		}
	}
	return 0;
}

int fd_send_all(int fd, const void *buf, size_t len, const int *fds, size_t nfds, int timeout_ms)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return fd_sendv_all(fd, &iov, 1, fds, nfds, timeout_ms);
}
