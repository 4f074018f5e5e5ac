/* SPDX-License-Identifier: MIT */
/*
* Unit tests for the fd helpers (src/util/fd.c): SCM_RIGHTS receive limits and truncation,
 * sendv, non-blocking, close_all.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "fd.h"
#include "mono-time.h"

/*
 * Is every copy of a pipe's write end closed? Then the read end sees EOF.
 * Used to prove that fd_recv() closed each fd it refused.
 */
static bool pipe_writers_gone(int rfd)
{
	char c;

	return read(rfd, &c, 1) == 0;
}

/* Sends len bytes with n copies of fd attached, without fd.c's 16-fd limit. */
static void raw_send_fds(int sock, const void *buf, size_t len, int fd, size_t n)
{
	size_t space = CMSG_SPACE(sizeof(int) * n);
	char *control = calloc(1, space);
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = space,
	};
	struct cmsghdr *c;

	assert_non_null(control);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	for (size_t i = 0; i < n; i++) {
		memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
	free(control);
}

static void test_fd_recv_fds(void **state)
{
	int sv[2], pfd[2], fds[4] = { 99, -1, -1, -1 };
	size_t nfds = 1;
	char buf[16];
	int send_fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
	send_fds[0] = pfd[1];
	send_fds[1] = pfd[0];
	assert_int_equal(fd_send_all(sv[0], "abc", 3, send_fds, 2, 1000), 0);

	/* appended after the fd already held, and close-on-exec */
	assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, 4), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(nfds, 3);
	assert_int_equal(fds[0], 99);
	assert_true(fds[1] >= 0 && fds[1] != pfd[1]);
	assert_true(fds[2] >= 0 && fds[2] != pfd[0]);
	assert_int_equal(fcntl(fds[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(fcntl(fds[2], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	/* they are the same pipe */
	assert_int_equal(write(fds[1], "z", 1), 1);
	assert_int_equal(read(fds[2], buf, 1), 1);
	assert_int_equal(buf[0], 'z');

	fds[0] = -1;
	fd_close_all(fds, nfds);
	assert_int_equal(fds[1], -1);
	assert_int_equal(fds[2], -1);
	close(pfd[0]);
	close(pfd[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_fd_recv_too_many(void **state)
{
	static const struct {
		size_t held, max_fds, sent;
	} cases[] = {
		{ 0, 0, 1 },
		{ 0, 1, 2 },
		{ 1, 2, 2 },
		{ 0, 8, 9 },
		{ 0, 15, 16 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int sv[2], pfd[2], fds[20];
		size_t nfds = cases[i].held;
		char buf[8];

		for (size_t k = 0; k < ARRAY_SIZE(fds); k++) {
			fds[k] = -7;
		}
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
		raw_send_fds(sv[0], "m", 1, pfd[1], cases[i].sent);
		close(pfd[1]);

		assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, cases[i].max_fds),
			-EPROTO);
		/* nothing handed out, every received copy closed */
		assert_int_equal(nfds, cases[i].held);
		for (size_t k = 0; k < ARRAY_SIZE(fds); k++) {
			assert_int_equal(fds[k], -7);
		}
		assert_true(pipe_writers_gone(pfd[0]));
		close(pfd[0]);
		close(sv[0]);
		close(sv[1]);
	}
}

static void test_fd_recv_ctrunc(void **state)
{
	int sv[2], pfd[2], fds[64];
	size_t nfds = 0;
	char buf[8];

	/* more fds than the control buffer holds: the kernel sets MSG_CTRUNC */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
	raw_send_fds(sv[0], "m", 1, pfd[1], 40);
	close(pfd[1]);
	assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, 64), -EPROTO);
	assert_int_equal(nfds, 0);
	assert_true(pipe_writers_gone(pfd[0]));
	close(pfd[0]);
	close(sv[0]);
	close(sv[1]);
}

static void test_fd_recv_trunc(void **state)
{
	int sv[2], pfd[2], fds[4];
	size_t nfds = 0;
	char buf[4];

	/* a datagram longer than the buffer: MSG_TRUNC, fds closed */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
	raw_send_fds(sv[0], "0123456789", 10, pfd[1], 1);
	close(pfd[1]);
	assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, 4), -EPROTO);
	assert_int_equal(nfds, 0);
	assert_true(pipe_writers_gone(pfd[0]));

	/* the same size exactly fits */
	assert_int_equal(send(sv[0], "0123", 4, 0), 4);
	assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, 4), 4);
	assert_memory_equal(buf, "0123", 4);
	close(pfd[0]);
	close(sv[0]);
	close(sv[1]);
}

static void test_fd_recv_eagain_eof(void **state)
{
	int sv[2], fds[1];
	size_t nfds = 0;
	char buf[4];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* blocking socket, but fd_recv never blocks */
	assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, 1), -EAGAIN);
	close(sv[0]);
	assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, 1), 0);
	assert_int_equal(nfds, 0);
	close(sv[1]);
	assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, 1), -EBADF);
}

static void test_fd_sendv_iov(void **state)
{
	char a[] = "head", b[] = "", c[] = "-body-", d[] = "tail";
	struct iovec iov[4] = {
		{ .iov_base = b, .iov_len = 0 },
		{ .iov_base = a, .iov_len = 4 },
		{ .iov_base = c, .iov_len = 6 },
		{ .iov_base = d, .iov_len = 4 },
	};
	struct iovec copy[4];
	int sv[2], pfd[2], fds[2] = { -1, -1 };
	size_t nfds = 0;
	char buf[64];
	ssize_t n;

	memcpy(copy, iov, sizeof(iov));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
	/* leading empty entry: the fd still rides on the first bytes sent */
	assert_int_equal(fd_sendv_all(sv[0], iov, 4, &pfd[1], 1, 1000), 0);
	assert_memory_equal(iov, copy, sizeof(iov));
	n = fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, 2);
	assert_int_equal(n, 14);
	assert_memory_equal(buf, "head-body-tail", 14);
	assert_int_equal(nfds, 1);
	fd_close_all(fds, nfds);
	close(pfd[1]);
	assert_true(pipe_writers_gone(pfd[0]));

	/* nothing to send is fine */
	assert_int_equal(fd_sendv_all(sv[0], iov, 0, NULL, 0, 0), 0);
	assert_int_equal(fd_sendv_all(sv[0], iov, 1, NULL, 0, 0), 0);
	nfds = 0;
	assert_int_equal(fd_recv(sv[1], buf, sizeof(buf), fds, &nfds, 2), -EAGAIN);
	close(pfd[0]);
	close(sv[0]);
	close(sv[1]);
}

static void test_fd_sendv_invalid(void **state)
{
	struct iovec iov[9];
	int fds[17];
	int sv[2];
	char byte = 'x';

	for (size_t i = 0; i < ARRAY_SIZE(iov); i++) {
		iov[i] = (struct iovec){ .iov_base = &byte, .iov_len = 1 };
	}
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		fds[i] = 0;
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fd_sendv_all(sv[0], iov, 9, NULL, 0, 100), -EINVAL);
	assert_int_equal(fd_sendv_all(sv[0], iov, -1, NULL, 0, 100), -EINVAL);
	assert_int_equal(fd_sendv_all(sv[0], iov, 1, fds, 17, 100), -EINVAL);
	assert_int_equal(fd_sendv_all(sv[0], iov, 8, NULL, 0, 100), 0);
	assert_int_equal(fd_sendv_all(-1, iov, 1, NULL, 0, 100), -EBADF);
	close(sv[0]);
	close(sv[1]);
}

struct reader_arg {
	int fd;
	size_t want;
	uint64_t sum;
	size_t got;
};

static void *reader_thread(void *data)
{
	struct reader_arg *r = data;
	uint8_t buf[4096];

	while (r->got < r->want) {
		ssize_t n = read(r->fd, buf, sizeof(buf));

		if (n <= 0) {
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			r->sum = r->sum * 31 + buf[i];
		}
		r->got += (size_t)n;
	}
	return NULL;
}

static void test_fd_sendv_partial(void **state)
{
	enum { PART = 300000 };
	uint8_t *data = malloc(3 * PART);
	struct iovec iov[3];
	struct reader_arg r = { .want = 3 * PART };
	uint64_t expect = 0;
	pthread_t th;
	int sv[2], sndbuf = 4096;

	assert_non_null(data);
	for (size_t i = 0; i < 3 * PART; i++) {
		data[i] = (uint8_t)(i * 7 + i / 251);
		expect = expect * 31 + data[i];
	}
	for (int i = 0; i < 3; i++) {
		iov[i] = (struct iovec){ .iov_base = data + i * PART, .iov_len = PART };
	}
	/* a small buffer forces many short sends across iov boundaries */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	r.fd = sv[1];
	assert_int_equal(pthread_create(&th, NULL, reader_thread, &r), 0);
	assert_int_equal(fd_sendv_all(sv[0], iov, 3, NULL, 0, 10000), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(r.got, 3 * PART);
	assert_true(r.sum == expect);
	assert_ptr_equal(iov[1].iov_base, data + PART);
	assert_int_equal(iov[1].iov_len, PART);
	free(data);
	close(sv[0]);
	close(sv[1]);
}

static void test_fd_sendv_timeout(void **state)
{
	static char chunk[65536];
	int sv[2];
	long long start;
	int r;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* nobody reads: the buffer fills and the deadline passes */
	start = mono_ms();
	do {
		r = fd_send_all(sv[0], chunk, sizeof(chunk), NULL, 0, 100);
	} while (r == 0 && mono_ms() - start < 5000);
	assert_int_equal(r, -ETIMEDOUT);
	start = mono_ms();
	assert_int_equal(fd_send_all(sv[0], chunk, sizeof(chunk), NULL, 0, 100), -ETIMEDOUT);
	assert_true(mono_ms() - start >= 90);
	/* a zero timeout gives up at once */
	start = mono_ms();
	assert_int_equal(fd_send_all(sv[0], chunk, sizeof(chunk), NULL, 0, 0), -ETIMEDOUT);
	assert_true(mono_ms() - start < 50);
	close(sv[0]);
	close(sv[1]);
}

static void test_fd_sendv_epipe(void **state)
{
	int sv[2];

	/* MSG_NOSIGNAL: an error return, not a SIGPIPE that kills the daemon */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(fd_send_all(sv[0], "x", 1, NULL, 0, 100), -EPIPE);
	close(sv[0]);
}

static void test_fd_close_all_nonblock(void **state)
{
	int pfd[2], fds[4];

	assert_int_equal(pipe(pfd), 0);
	fds[0] = pfd[0];
	fds[1] = -1;
	fds[2] = pfd[1];
	fds[3] = -1;
	fd_close_all(fds, 0);
	assert_int_equal(fds[0], pfd[0]);

	assert_int_equal(fd_set_nonblock(pfd[0], true), 0);
	assert_int_equal(fcntl(pfd[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	assert_int_equal(fd_set_nonblock(pfd[0], false), 0);
	assert_int_equal(fcntl(pfd[0], F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(fd_set_nonblock(-1, true), -EBADF);

	fd_close_all(fds, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(fds[i], -1);
	}
	assert_int_equal(fcntl(pfd[0], F_GETFD), -1);
	assert_int_equal(fcntl(pfd[1], F_GETFD), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_recv_fds),
		cmocka_unit_test(test_fd_recv_too_many),
		cmocka_unit_test(test_fd_recv_ctrunc),
		cmocka_unit_test(test_fd_recv_trunc),
		cmocka_unit_test(test_fd_recv_eagain_eof),
		cmocka_unit_test(test_fd_sendv_iov),
		cmocka_unit_test(test_fd_sendv_invalid),
		cmocka_unit_test(test_fd_sendv_partial),
		cmocka_unit_test(test_fd_sendv_timeout),
		cmocka_unit_test(test_fd_sendv_epipe),
		cmocka_unit_test(test_fd_close_all_nonblock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
