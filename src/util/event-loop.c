/* SPDX-License-Identifier: MIT */
#include "event-loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"

enum source_kind {
	SOURCE_FD,
	SOURCE_SIGNAL,
	SOURCE_TIMER,
};

struct event_source {
	struct event_loop *loop;
	enum source_kind kind;
	int fd;
	bool owns_fd;
	bool dead; /* removed during a dispatch round; freed at its end */
	int signo;
	union {
		event_io_fn io;
		event_signal_fn signal;
		event_timer_fn timer;
	} fn;
	void *data;
	struct event_source *next_dead;
};

struct event_loop {
	int epoll_fd;
	bool dispatching;
	bool quit;
	int quit_code;
	struct event_source *dead;
};

/* How many ready events one epoll_wait() returns at most. */
#define EVENT_LOOP_BATCH 32

struct event_loop *event_loop_create(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));

	if (!loop) {
		return NULL;
	}
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (!loop) {
		return;
	}
	close(loop->epoll_fd);
	free(loop);
}

static struct event_source *source_add(struct event_loop *loop, enum source_kind kind, int fd,
	bool owns_fd, uint32_t events, void *data)
{
	struct event_source *src = calloc(1, sizeof(*src));
	struct epoll_event ev = { .events = events };

	if (!src) {
		return NULL;
	}
	src->loop = loop;
	src->kind = kind;
	src->fd = fd;
	src->owns_fd = owns_fd;
	src->data = data;
	ev.data.ptr = src;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int saved = errno;
		free(src);
		errno = saved;
		return NULL;
	}
	return src;
}

struct event_source *event_loop_add_fd(struct event_loop *loop, int fd, uint32_t events,
	event_io_fn fn, void *data)
{
	struct event_source *src = source_add(loop, SOURCE_FD, fd, false, events, data);

	if (src) {
		src->fn.io = fn;
	}
	return src;
}

int event_source_set_events(struct event_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (epoll_ctl(src->loop->epoll_fd, EPOLL_CTL_MOD, src->fd, &ev) < 0) {
		return -errno;
	}
	return 0;
}

struct event_source *event_loop_add_signal(struct event_loop *loop, int signo,
	event_signal_fn fn, void *data)
{
	struct event_source *src;
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, signo);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		return NULL;
	}
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		return NULL;
	}
	src = source_add(loop, SOURCE_SIGNAL, fd, true, EPOLLIN, data);
	if (!src) {
		close(fd);
		return NULL;
	}
	src->signo = signo;
	src->fn.signal = fn;
	return src;
}

struct event_source *event_loop_add_timer(struct event_loop *loop, event_timer_fn fn, void *data)
{
	struct event_source *src;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0) {
		return NULL;
	}
	src = source_add(loop, SOURCE_TIMER, fd, true, EPOLLIN, data);
	if (!src) {
		close(fd);
		return NULL;
	}
	src->fn.timer = fn;
	return src;
}

int event_source_timer_arm(struct event_source *src, unsigned int ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 },
	};

	if (src->kind != SOURCE_TIMER) {
		return -EINVAL;
	}
	if (timerfd_settime(src->fd, 0, &its, NULL) < 0) {
		return -errno;
	}
	return 0;
}

static void source_free(struct event_source *src)
{
	if (src->owns_fd) {
		close(src->fd);
	}
	free(src);
}

void event_source_remove(struct event_source *src)
{
	if (!src || src->dead) {
		return;
	}
	epoll_ctl(src->loop->epoll_fd, EPOLL_CTL_DEL, src->fd, NULL);
	if (src->kind == SOURCE_SIGNAL) {
		sigset_t mask;

		sigemptyset(&mask);
		sigaddset(&mask, src->signo);
		sigprocmask(SIG_UNBLOCK, &mask, NULL);
	}
	src->dead = true;
	if (src->loop->dispatching) {
		/* epoll may still hand us this pointer in the current batch */
		src->next_dead = src->loop->dead;
		src->loop->dead = src;
	} else {
		source_free(src);
	}
}

static void source_dispatch(struct event_source *src, uint32_t events)
{
	switch (src->kind) {
	case SOURCE_FD:
		src->fn.io(src->data, src->fd, events);
		break;
	case SOURCE_SIGNAL: {
		struct signalfd_siginfo info;
		while (read(src->fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
			src->fn.signal(src->data, (int)info.ssi_signo);
			if (src->dead) {
				break;
			}
		}
		break;
	}
	case SOURCE_TIMER: {
		uint64_t expirations;
		if (read(src->fd, &expirations, sizeof(expirations)) == (ssize_t)sizeof(expirations)) {
			src->fn.timer(src->data);
		}
		break;
	}
	}
}

int event_loop_dispatch(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event events[EVENT_LOOP_BATCH];
	int n = epoll_wait(loop->epoll_fd, events, EVENT_LOOP_BATCH, timeout_ms);

	if (n < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	loop->dispatching = true;
	for (int i = 0; i < n; i++) {
		struct event_source *src = events[i].data.ptr;

		if (!src->dead) {
			source_dispatch(src, events[i].events);
		}
	}
	loop->dispatching = false;
	while (loop->dead) {
		struct event_source *src = loop->dead;

		loop->dead = src->next_dead;
		source_free(src);
	}
	return n;
}

int event_loop_run(struct event_loop *loop)
{
	while (!loop->quit) {
		int r = event_loop_dispatch(loop, -1);

		if (r < 0) {
			log_error("event loop: epoll_wait failed: %s", strerror(-r));
			return r;
		}
	}
	return loop->quit_code;
}

void event_loop_quit(struct event_loop *loop, int code)
{
	loop->quit = true;
	loop->quit_code = code;
}

bool event_loop_quitting(const struct event_loop *loop)
{
	return loop->quit;
}
