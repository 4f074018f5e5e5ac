/* SPDX-License-Identifier: MIT */
/* Socket and fd helpers with the hygiene rules of docs/STYLE.md §3.11. */
#ifndef VDG_FD_H
#define VDG_FD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

int fd_set_nonblock(int fd, bool nonblock);

/* Closes n fds (ignoring -1 entries) and sets each entry to -1. */
void fd_close_all(int *fds, size_t n);

/*
 * One non-blocking recvmsg() of at most len bytes. Received fds are appended
 * to fds[*nfds ...] (close-on-exec), at most max_fds in all; if the sender
 * attached more, or the kernel truncated control data, every fd of this call
 * is closed and -EPROTO is returned. Returns bytes read, 0 on EOF, -EAGAIN if
 * nothing is ready, or another -errno.
 */
ssize_t fd_recv(int fd, void *buf, size_t len, int *fds, size_t *nfds, size_t max_fds);

/*
 * Sends every byte of iov (with fds attached to the first sendmsg) using
 * MSG_NOSIGNAL. A full socket buffer is waited for with poll(), at most
 * timeout_ms in all (-1: no limit). Returns 0 or -errno (-ETIMEDOUT,
 * -EPIPE, ...). The iov array is not modified.
 */
int fd_sendv_all(int fd, const struct iovec *iov, int iovcnt, const int *fds, size_t nfds,
	int timeout_ms);

int fd_send_all(int fd, const void *buf, size_t len, const int *fds, size_t nfds, int timeout_ms);

#endif /* VDG_FD_H */
