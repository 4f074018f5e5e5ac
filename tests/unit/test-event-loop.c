/* SPDX-License-Identifier: MIT */
/*
* Unit tests for the epoll loop (src/util/event-loop.c): fds, removal from callbacks,
 * timers, run/quit, signals.
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
#include "event-loop.h"
#include "fd.h"
#include "log.h"
#include "mono-time.h"

struct io_probe {
	struct event_source *src;
	struct event_source *other; /* removed by the callback, if set */
	int calls;
	int fd;
	uint32_t events;
	bool remove_self;
};

static void probe_io(void *data, int fd, uint32_t events)
{
	struct io_probe *p = data;
	char buf[16];

	p->calls++;
	p->fd = fd;
	p->events = events;
	if (events & EPOLLIN) {
		/* drain; 0 (EOF) is fine after a hang-up */
		ssize_t n = read(fd, buf, sizeof(buf));

		assert_true(n >= 0);
	}
	if (p->other) {
		event_source_remove(p->other);
		p->other = NULL;
	}
	if (p->remove_self) {
		event_source_remove(p->src);
		p->src = NULL;
	}
}

static void test_event_loop_fd(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct io_probe p = { .fd = -1 };
	int pfd[2];

	assert_non_null(loop);
	assert_int_equal(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	p.src = event_loop_add_fd(loop, pfd[0], EPOLLIN, probe_io, &p);
	assert_non_null(p.src);

	/* nothing ready: no callback */
	assert_int_equal(event_loop_dispatch(loop, 0), 0);
	assert_int_equal(p.calls, 0);

	assert_int_equal(write(pfd[1], "x", 1), 1);
	assert_int_equal(event_loop_dispatch(loop, 1000), 1);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.fd, pfd[0]);
	assert_true(p.events & EPOLLIN);

	/* drained by the callback: level-triggered, so nothing more */
	assert_int_equal(event_loop_dispatch(loop, 0), 0);
	assert_int_equal(p.calls, 1);

	/* the fd is not owned: removing the source leaves it open */
	event_source_remove(p.src);
	assert_int_equal(write(pfd[1], "y", 1), 1);
	assert_int_equal(event_loop_dispatch(loop, 0), 0);
	assert_int_equal(p.calls, 1);
	assert_int_equal(fcntl(pfd[0], F_GETFD), FD_CLOEXEC);

	event_source_remove(NULL);
	event_loop_destroy(loop);
	event_loop_destroy(NULL);
	close(pfd[0]);
	close(pfd[1]);
}

static void test_event_loop_remove_other(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct io_probe a = { .fd = -1 }, b = { .fd = -1 };
	int pa[2], pb[2];

	assert_non_null(loop);
	assert_int_equal(pipe2(pa, O_NONBLOCK), 0);
	assert_int_equal(pipe2(pb, O_NONBLOCK), 0);
	a.src = event_loop_add_fd(loop, pa[0], EPOLLIN, probe_io, &a);
	b.src = event_loop_add_fd(loop, pb[0], EPOLLIN, probe_io, &b);
	assert_non_null(a.src);
	assert_non_null(b.src);
	a.other = b.src;
	b.other = a.src;

	/*
	 * Both ready in the same batch: whichever runs first removes the other,
	 * which must then not be called (nor touched after free: ASan).
	 */
	assert_int_equal(write(pa[1], "x", 1), 1);
	assert_int_equal(write(pb[1], "x", 1), 1);
	assert_int_equal(event_loop_dispatch(loop, 1000), 2);
	assert_int_equal(a.calls + b.calls, 1);

	/* the survivor still works */
	struct io_probe *survivor = a.calls ? &a : &b;
	int *survivor_pipe = a.calls ? pa : pb;

	assert_int_equal(write(survivor_pipe[1], "x", 1), 1);
	assert_int_equal(event_loop_dispatch(loop, 1000), 1);
	assert_int_equal(survivor->calls, 2);

	event_source_remove(survivor->src);
	event_loop_destroy(loop);
	close(pa[0]);
	close(pa[1]);
	close(pb[0]);
	close(pb[1]);
}

static void test_event_loop_remove_self(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct io_probe p = { .fd = -1, .remove_self = true };
	int pfd[2];

	assert_non_null(loop);
	assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
	p.src = event_loop_add_fd(loop, pfd[0], EPOLLIN, probe_io, &p);
	assert_non_null(p.src);
	assert_int_equal(write(pfd[1], "xy", 2), 2);
	assert_int_equal(event_loop_dispatch(loop, 1000), 1);
	assert_int_equal(p.calls, 1);
	assert_null(p.src);
	/* still readable, but the source is gone */
	assert_int_equal(write(pfd[1], "z", 1), 1);
	assert_int_equal(event_loop_dispatch(loop, 0), 0);
	assert_int_equal(p.calls, 1);
	/* the fd can be watched again */
	p.remove_self = false;
	p.src = event_loop_add_fd(loop, pfd[0], EPOLLIN, probe_io, &p);
	assert_non_null(p.src);
	assert_int_equal(event_loop_dispatch(loop, 1000), 1);
	assert_int_equal(p.calls, 2);
	event_source_remove(p.src);
	event_loop_destroy(loop);
	close(pfd[0]);
	close(pfd[1]);
}

static void test_event_loop_set_events(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct io_probe p = { .fd = -1 };
	int sv[2];

	assert_non_null(loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	p.src = event_loop_add_fd(loop, sv[0], EPOLLIN, probe_io, &p);
	assert_non_null(p.src);
	assert_int_equal(event_loop_dispatch(loop, 0), 0);
	assert_int_equal(event_source_set_events(p.src, EPOLLOUT), 0);
	assert_int_equal(event_loop_dispatch(loop, 1000), 1);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.events & (EPOLLIN | EPOLLOUT), EPOLLOUT);
	assert_int_equal(event_source_set_events(p.src, EPOLLIN), 0);
	assert_int_equal(event_loop_dispatch(loop, 0), 0);
	/* the peer hanging up wakes an EPOLLIN watcher with EPOLLHUP */
	close(sv[1]);
	assert_int_equal(event_loop_dispatch(loop, 1000), 1);
	assert_true(p.events & (EPOLLHUP | EPOLLRDHUP | EPOLLIN));
	event_source_remove(p.src);
	event_loop_destroy(loop);
	close(sv[0]);
}

static void test_event_loop_add_errors(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct io_probe p = { .fd = -1 };
	struct event_source *src;
	int pfd[2];

	assert_non_null(loop);
	errno = 0;
	assert_null(event_loop_add_fd(loop, -1, EPOLLIN, probe_io, &p));
	assert_int_equal(errno, EBADF);

	assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
	src = event_loop_add_fd(loop, pfd[0], EPOLLIN, probe_io, &p);
	assert_non_null(src);
	errno = 0;
	assert_null(event_loop_add_fd(loop, pfd[0], EPOLLIN, probe_io, &p));
	assert_int_equal(errno, EEXIST);
	/* a regular-file-like fd epoll cannot watch */
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(devnull >= 0);
	errno = 0;
	assert_null(event_loop_add_fd(loop, devnull, EPOLLIN, probe_io, &p));
	assert_int_equal(errno, EPERM);
	close(devnull);

	/* timer_arm refuses a non-timer source */
	assert_int_equal(event_source_timer_arm(src, 10), -EINVAL);
	event_source_remove(src);
	event_loop_destroy(loop);
	close(pfd[0]);
	close(pfd[1]);
}

struct timer_probe {
	struct event_loop *loop;
	int calls;
	int quit_code; /* if non-zero, quit the loop with it */
};

static void probe_timer(void *data)
{
	struct timer_probe *t = data;

	t->calls++;
	if (t->quit_code) {
		event_loop_quit(t->loop, t->quit_code);
	}
}

static void test_event_loop_timer(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct timer_probe t = { .loop = loop };
	struct event_source *src;
	long long start;

	assert_non_null(loop);
	src = event_loop_add_timer(loop, probe_timer, &t);
	assert_non_null(src);

	/* not armed: never fires */
	assert_int_equal(event_loop_dispatch(loop, 30), 0);
	assert_int_equal(t.calls, 0);

	start = mono_ms();
	assert_int_equal(event_source_timer_arm(src, 40), 0);
	assert_int_equal(event_loop_dispatch(loop, 2000), 1);
	assert_int_equal(t.calls, 1);
	assert_true(mono_ms() - start >= 39);
	/* one-shot */
	assert_int_equal(event_loop_dispatch(loop, 80), 0);
	assert_int_equal(t.calls, 1);

	/* arm then disarm with 0 */
	assert_int_equal(event_source_timer_arm(src, 20), 0);
	assert_int_equal(event_source_timer_arm(src, 0), 0);
	assert_int_equal(event_loop_dispatch(loop, 80), 0);
	assert_int_equal(t.calls, 1);

	/* re-armable; more than a second exercises the tv_sec split */
	assert_int_equal(event_source_timer_arm(src, 1001), 0);
	assert_int_equal(event_loop_dispatch(loop, 500), 0);
	assert_int_equal(event_loop_dispatch(loop, 3000), 1);
	assert_int_equal(t.calls, 2);

	event_source_remove(src);
	event_loop_destroy(loop);
}

static void test_event_loop_run_quit(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct timer_probe t = { .loop = loop, .quit_code = 7 };
	struct event_source *src;

	assert_non_null(loop);
	assert_false(event_loop_quitting(loop));
	src = event_loop_add_timer(loop, probe_timer, &t);
	assert_non_null(src);
	assert_int_equal(event_source_timer_arm(src, 5), 0);
	assert_int_equal(event_loop_run(loop), 7);
	assert_int_equal(t.calls, 1);
	assert_true(event_loop_quitting(loop));
	event_source_remove(src);
	event_loop_destroy(loop);
}

struct signal_probe {
	struct event_source *src;
	int calls;
	int signo;
	bool remove_self;
};

static void probe_signal(void *data, int signo)
{
	struct signal_probe *s = data;

	s->calls++;
	s->signo = signo;
	if (s->remove_self) {
		event_source_remove(s->src);
	}
}

static bool signal_blocked(int signo)
{
	sigset_t cur;

	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	return sigismember(&cur, signo) == 1;
}

static void test_event_loop_signal(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct signal_probe s = { 0 };

	assert_non_null(loop);
	assert_false(signal_blocked(SIGUSR1));
	s.src = event_loop_add_signal(loop, SIGUSR1, probe_signal, &s);
	assert_non_null(s.src);
	assert_true(signal_blocked(SIGUSR1));

	assert_int_equal(event_loop_dispatch(loop, 0), 0);
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(event_loop_dispatch(loop, 1000), 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.signo, SIGUSR1);
	assert_int_equal(event_loop_dispatch(loop, 0), 0);

	/* removal from inside its own callback, and the signal is unblocked again */
	s.remove_self = true;
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(event_loop_dispatch(loop, 1000), 1);
	assert_int_equal(s.calls, 2);
	assert_false(signal_blocked(SIGUSR1));
	event_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_loop_fd),
		cmocka_unit_test(test_event_loop_remove_other),
		cmocka_unit_test(test_event_loop_remove_self),
		cmocka_unit_test(test_event_loop_set_events),
		cmocka_unit_test(test_event_loop_add_errors),
		cmocka_unit_test(test_event_loop_timer),
		cmocka_unit_test(test_event_loop_run_quit),
		cmocka_unit_test(test_event_loop_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
