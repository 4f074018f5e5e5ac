/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/util: checked arithmetic, the id table, logging (level
 * filters and the peer rate limit), the epoll loop and the fd helpers.
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

#include "checked.h"
#include "cleanup.h"
#include "event-loop.h"
#include "fd.h"
#include "id-table.h"
#include "log.h"

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- checked.h ---------------------------------------------------------------------------- */

static void test_checked_add_u64(void **state)
{
	static const struct {
		uint64_t a, b;
		bool ok;
		uint64_t r;
	} cases[] = {
		{ 0, 0, true, 0 },
		{ 1, 2, true, 3 },
		{ UINT64_MAX, 0, true, UINT64_MAX },
		{ UINT64_MAX - 1, 1, true, UINT64_MAX },
		{ UINT64_MAX, 1, false, 0 },
		{ UINT64_MAX / 2 + 1, UINT64_MAX / 2 + 1, false, 0 },
		{ UINT64_MAX, UINT64_MAX, false, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t r = 0xdeadbeef;

		assert_int_equal(checked_add_u64(cases[i].a, cases[i].b, &r), cases[i].ok);
		/* on overflow the output is left alone */
		assert_true(r == (cases[i].ok ? cases[i].r : 0xdeadbeef));
	}
}

static void test_checked_mul_u64(void **state)
{
	static const struct {
		uint64_t a, b;
		bool ok;
		uint64_t r;
	} cases[] = {
		{ 0, UINT64_MAX, true, 0 },
		{ UINT64_MAX, 1, true, UINT64_MAX },
		{ UINT64_C(1) << 32, UINT64_C(1) << 31, true, UINT64_C(1) << 63 },
		{ UINT64_C(1) << 32, UINT64_C(1) << 32, false, 0 },
		{ UINT64_MAX, 2, false, 0 },
		{ 0x40000001, 4, true, 0x100000004 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t r = 0xdeadbeef;

		assert_int_equal(checked_mul_u64(cases[i].a, cases[i].b, &r), cases[i].ok);
		assert_true(r == (cases[i].ok ? cases[i].r : 0xdeadbeef));
	}
}

static void test_checked_u32(void **state)
{
	static const struct {
		bool mul;
		uint32_t a, b;
		bool ok;
		uint32_t r;
	} cases[] = {
		{ false, UINT32_MAX - 1, 1, true, UINT32_MAX },
		{ false, UINT32_MAX, 1, false, 0 },
		{ false, 0x80000000u, 0x80000000u, false, 0 },
		{ true, 0xffffu, 0x10001u, true, UINT32_MAX },
		{ true, 0x10000u, 0x10000u, false, 0 },
		/* the QEMU stride bug: 0x40000001 * 4 wraps to 4 in 32 bits */
		{ true, 0x40000001u, 4, false, 0 },
		{ true, 0x3fffffffu, 4, true, 0xfffffffcu },
		{ true, 0, UINT32_MAX, true, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t r = 0xdeadbeef;
		bool ok = cases[i].mul ? checked_mul_u32(cases[i].a, cases[i].b, &r)
				       : checked_add_u32(cases[i].a, cases[i].b, &r);

		assert_int_equal(ok, cases[i].ok);
		assert_true(r == (cases[i].ok ? cases[i].r : 0xdeadbeef));
	}
}

static void test_checked_align(void **state)
{
	static const struct {
		uint64_t a, align;
		bool ok;
		uint64_t r;
	} cases[] = {
		{ 0, 4096, true, 0 },
		{ 1, 4096, true, 4096 },
		{ 4096, 4096, true, 4096 },
		{ 4097, 4096, true, 8192 },
		{ 5, 1, true, 5 },
		{ 7, 0, false, 0 },        /* align 0 */
		{ 7, 3, false, 0 },        /* not a power of two */
		{ 7, 4097, false, 0 },     /* not a power of two */
		{ UINT64_MAX - 4094, 4096, false, 0 }, /* rounding up overflows */
		{ UINT64_MAX - 4095, 4096, true, UINT64_MAX - 4095 },
		{ UINT64_C(1) << 63, UINT64_C(1) << 63, true, UINT64_C(1) << 63 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t r = 0xdeadbeef;

		assert_int_equal(checked_align_u64(cases[i].a, cases[i].align, &r), cases[i].ok);
		assert_true(r == (cases[i].ok ? cases[i].r : 0xdeadbeef));
	}
}

static void test_range_within(void **state)
{
	static const struct {
		uint64_t off, len, size;
		bool ok;
	} cases[] = {
		{ 0, 0, 0, true },
		{ 0, 10, 10, true },
		{ 10, 0, 10, true },
		{ 9, 1, 10, true },
		{ 9, 2, 10, false },
		{ 11, 0, 10, false },
		{ 1, UINT64_MAX, 10, false },
		{ UINT64_MAX, 1, UINT64_MAX, false },
		{ UINT64_MAX - 1, 1, UINT64_MAX, true },
		{ 2, UINT64_MAX - 1, UINT64_MAX, false }, /* off + len wraps to 0 */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(range_within(cases[i].off, cases[i].len, cases[i].size),
			cases[i].ok);
	}
}

static void test_rect_within(void **state)
{
	static const struct {
		uint32_t x, y, w, h, w_max, h_max;
		bool ok;
	} cases[] = {
		{ 0, 0, 1024, 768, 1024, 768, true },
		{ 1023, 767, 1, 1, 1024, 768, true },
		{ 1024, 0, 0, 768, 1024, 768, true },
		{ 1024, 0, 1, 1, 1024, 768, false },
		{ 0, 768, 1, 1, 1024, 768, false },
		{ 1, 0, 1024, 768, 1024, 768, false },
		{ 0, 1, 1024, 768, 1024, 768, false },
		/* x + w wraps to 0 in 32 bits */
		{ UINT32_MAX, 0, 1, 1, 1024, 768, false },
		{ 1, 0, UINT32_MAX, 1, 1024, 768, false },
		{ 0, UINT32_MAX, 1, 2, 1024, 768, false },
		{ 0, 0, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, true },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(rect_within(cases[i].x, cases[i].y, cases[i].w, cases[i].h,
					 cases[i].w_max, cases[i].h_max),
			cases[i].ok);
	}
}

/* ---- id-table ----------------------------------------------------------------------------- */

static void test_id_table_basic(void **state)
{
	struct id_table t;
	int a, b, c;

	id_table_init(&t, 100);
	assert_null(id_table_lookup(&t, 1));
	assert_null(id_table_remove(&t, 1));
	assert_int_equal(id_table_count(&t), 0);

	assert_int_equal(id_table_insert(&t, 1, &a), 0);
	assert_int_equal(id_table_insert(&t, 0, &b), 0);
	assert_int_equal(id_table_insert(&t, UINT32_MAX, &c), 0);
	assert_int_equal(id_table_insert(&t, 1, &c), -EEXIST);
	assert_int_equal(id_table_count(&t), 3);

	assert_ptr_equal(id_table_lookup(&t, 1), &a);
	assert_ptr_equal(id_table_lookup(&t, 0), &b);
	assert_ptr_equal(id_table_lookup(&t, UINT32_MAX), &c);
	assert_null(id_table_lookup(&t, 2));

	assert_ptr_equal(id_table_remove(&t, 1), &a);
	assert_null(id_table_lookup(&t, 1));
	assert_null(id_table_remove(&t, 1));
	assert_int_equal(id_table_count(&t), 2);
	/* the id can be used again once removed */
	assert_int_equal(id_table_insert(&t, 1, &c), 0);
	assert_ptr_equal(id_table_lookup(&t, 1), &c);

	id_table_finish(&t);
	assert_int_equal(id_table_count(&t), 0);
	assert_null(id_table_lookup(&t, 0));
	/* usable again after finish, with the same limit */
	assert_int_equal(id_table_insert(&t, 5, &a), 0);
	assert_ptr_equal(id_table_lookup(&t, 5), &a);
	id_table_finish(&t);
}

static void test_id_table_limit(void **state)
{
	static const size_t limits[] = { 0, 1, 16, 1000 };
	static int value;

	for (size_t l = 0; l < ARRAY_SIZE(limits); l++) {
		struct id_table t;

		id_table_init(&t, limits[l]);
		for (size_t i = 0; i < limits[l]; i++) {
			assert_int_equal(id_table_insert(&t, (uint32_t)(i * 7 + 3), &value), 0);
		}
		/* at the limit: one more is refused, but a duplicate still says -EEXIST */
		assert_int_equal(id_table_count(&t), limits[l]);
		assert_int_equal(id_table_insert(&t, 0xfffffff0u, &value), -ENOSPC);
		assert_null(id_table_lookup(&t, 0xfffffff0u));
		if (limits[l] > 0) {
			assert_int_equal(id_table_insert(&t, 3, &value), -EEXIST);
			/* removing one makes room for exactly one */
			assert_ptr_equal(id_table_remove(&t, 3), &value);
			assert_int_equal(id_table_insert(&t, 0xfffffff0u, &value), 0);
			assert_int_equal(id_table_insert(&t, 0xfffffff1u, &value), -ENOSPC);
		}
		id_table_finish(&t);
	}
}

static void test_id_table_many(void **state)
{
	enum { N = 5000 };
	struct id_table t;
	static char values[N];

	id_table_init(&t, N);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(id_table_insert(&t, i + 1, &values[i]), 0);
	}
	for (uint32_t i = 0; i < N; i++) {
		assert_ptr_equal(id_table_lookup(&t, i + 1), &values[i]);
	}
	assert_null(id_table_lookup(&t, N + 1));
	/* remove every odd id; the even ones must stay reachable past the tombstones */
	for (uint32_t i = 0; i < N; i += 2) {
		assert_ptr_equal(id_table_remove(&t, i + 1), &values[i]);
	}
	assert_int_equal(id_table_count(&t), N / 2);
	for (uint32_t i = 0; i < N; i++) {
		if (i % 2 == 0) {
			assert_null(id_table_lookup(&t, i + 1));
		} else {
			assert_ptr_equal(id_table_lookup(&t, i + 1), &values[i]);
		}
	}
	id_table_finish(&t);
}

static void test_id_table_churn(void **state)
{
	struct id_table t;
	int v;

	/*
	 * A guest creating and destroying one resource after another, each with a
	 * fresh id: tombstones must be reclaimed, not grow the table forever.
	 */
	id_table_init(&t, 4);
	for (uint32_t i = 0; i < 100000; i++) {
		assert_int_equal(id_table_insert(&t, i, &v), 0);
		assert_ptr_equal(id_table_lookup(&t, i), &v);
		assert_ptr_equal(id_table_remove(&t, i), &v);
	}
	assert_int_equal(id_table_count(&t), 0);
	assert_true(t.capacity <= 64);
	id_table_finish(&t);
}

static void test_id_table_iterate(void **state)
{
	static const uint32_t ids[] = { 0, 1, 2, 77, 1000000, UINT32_MAX };
	static int values[ARRAY_SIZE(ids)];
	bool seen[ARRAY_SIZE(ids)] = { false };
	struct id_table t;
	size_t iter = 0, n = 0;
	uint32_t id;
	void *value;

	id_table_init(&t, 64);
	assert_false(id_table_next(&t, &iter, &id, &value));
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		assert_int_equal(id_table_insert(&t, ids[i], &values[i]), 0);
	}
	assert_ptr_equal(id_table_remove(&t, 77), &values[3]);
	iter = 0;
	while (id_table_next(&t, &iter, &id, &value)) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(ids) && ids[k] != id; k++) {
		}
		assert_true(k < ARRAY_SIZE(ids));
		assert_int_not_equal(id, 77);
		assert_false(seen[k]);
		assert_ptr_equal(value, &values[k]);
		seen[k] = true;
		n++;
	}
	assert_int_equal(n, ARRAY_SIZE(ids) - 1);
	id_table_finish(&t);
}

/* ---- log ---------------------------------------------------------------------------------- */

static struct {
	unsigned int n;
	enum log_level level[64];
	char line[64][1024];
} sink_lines;

static void test_sink(enum log_level level, const char *line)
{
	if (sink_lines.n < ARRAY_SIZE(sink_lines.line)) {
		sink_lines.level[sink_lines.n] = level;
		snprintf(sink_lines.line[sink_lines.n], sizeof(sink_lines.line[0]), "%s", line);
	}
	sink_lines.n++;
}

static int log_setup(void **state)
{
	memset(&sink_lines, 0, sizeof(sink_lines));
	log_set_sink(test_sink);
	log_set_level(LOG_LEVEL_INFO);
	log_peer_reset();
	return 0;
}

static int log_teardown(void **state)
{
	log_set_sink(NULL);
	log_set_level(LOG_LEVEL_DEFAULT);
	log_peer_reset();
	return 0;
}

static void test_log_parse_level(void **state)
{
	static const struct {
		const char *word;
		int ret;
		enum log_level level;
	} cases[] = {
		{ "off", 0, LOG_LEVEL_OFF },
		{ "error", 0, LOG_LEVEL_ERROR },
		{ "warn", 0, LOG_LEVEL_WARN },
		{ "warning", 0, LOG_LEVEL_WARN },
		{ "info", 0, LOG_LEVEL_INFO },
		{ "debug", 0, LOG_LEVEL_DEBUG },
		{ "trace", 0, LOG_LEVEL_TRACE },
		{ "TRACE", 0, LOG_LEVEL_TRACE },
		{ "Warn", 0, LOG_LEVEL_WARN },
		{ "OFF", 0, LOG_LEVEL_OFF },
		{ "", -EINVAL, 0 },
		{ "verbose", -EINVAL, 0 },
		{ "info ", -EINVAL, 0 },
		{ "inf", -EINVAL, 0 },
		{ "3", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum log_level level = (enum log_level)99;

		assert_int_equal(log_parse_level(cases[i].word, &level), cases[i].ret);
		assert_int_equal(level, cases[i].ret == 0 ? cases[i].level : 99);
	}
}

static void test_log_parse_filter(void **state)
{
	static const struct {
		const char *filter;
		int ret;
		enum log_level level;
	} cases[] = {
		{ "", 0, LOG_LEVEL_INFO },
		{ "debug", 0, LOG_LEVEL_DEBUG },
		{ "off", 0, LOG_LEVEL_OFF },
		{ "error", 0, LOG_LEVEL_ERROR },
		{ "vhost_device_gpu=trace", 0, LOG_LEVEL_TRACE },
		{ "vhost_device_gpu=off", 0, LOG_LEVEL_OFF },
		{ "vhost_device_gpu=WARN", 0, LOG_LEVEL_WARN },
		{ "warn,vhost_device_gpu=debug", 0, LOG_LEVEL_DEBUG },
		{ "vhost_device_gpu=debug,warn", 0, LOG_LEVEL_DEBUG },
		{ "trace,vhost_device_gpu=error", 0, LOG_LEVEL_ERROR },
		{ "vhost_device_gpu::vu_dev=debug", 0, LOG_LEVEL_DEBUG },
		{ "vhost_device_gpu", 0, LOG_LEVEL_TRACE },
		{ "other_crate=trace", 0, LOG_LEVEL_INFO },
		{ "error,other_crate=trace", 0, LOG_LEVEL_ERROR },
		{ "vhost_device_gpux=trace", 0, LOG_LEVEL_INFO },
		{ "vhost_device=trace", 0, LOG_LEVEL_INFO },
		{ "other_crate", 0, LOG_LEVEL_INFO },
		{ "info,,debug", 0, LOG_LEVEL_DEBUG },
		{ "debug,", 0, LOG_LEVEL_DEBUG },
		/* a bare word that is no level names some other crate: ignored */
		{ "loud", 0, LOG_LEVEL_INFO },
		{ "debug,loud", 0, LOG_LEVEL_DEBUG },
		{ "vhost_device_gpu=loud", -EINVAL, 0 },
		{ "other_crate=loud", -EINVAL, 0 },
		{ "vhost_device_gpu=", -EINVAL, 0 },
		{ "Bad-Crate", -EINVAL, 0 },
		{ "warn,vhost_device_gpu=debug,nonsense!", -EINVAL, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum log_level level = (enum log_level)99;
		int r = log_parse_filter(cases[i].filter, &level);

		if (r != cases[i].ret) {
			fail_msg("filter '%s': returned %d, expected %d", cases[i].filter, r,
				cases[i].ret);
		}
		if (level != (cases[i].ret == 0 ? cases[i].level : 99)) {
			fail_msg("filter '%s': level %d", cases[i].filter, (int)level);
		}
	}
}

static void test_log_parse_filter_long(void **state)
{
	char filter[300];
	enum log_level level = LOG_LEVEL_ERROR;

	/* one directive longer than the parser's buffer is refused, not truncated */
	memset(filter, 'a', sizeof(filter) - 1);
	filter[sizeof(filter) - 1] = '\0';
	assert_int_equal(log_parse_filter(filter, &level), -EINVAL);
	assert_int_equal(level, LOG_LEVEL_ERROR);
}

static void test_log_levels(void **state)
{
	static const struct {
		enum log_level set;
		bool error, warn, info, debug, trace;
	} cases[] = {
		{ LOG_LEVEL_OFF, false, false, false, false, false },
		{ LOG_LEVEL_ERROR, true, false, false, false, false },
		{ LOG_LEVEL_WARN, true, true, false, false, false },
		{ LOG_LEVEL_INFO, true, true, true, false, false },
		{ LOG_LEVEL_DEBUG, true, true, true, true, false },
		{ LOG_LEVEL_TRACE, true, true, true, true, true },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned int expected = (unsigned int)cases[i].error + cases[i].warn +
					cases[i].info + cases[i].debug + cases[i].trace;

		log_set_level(cases[i].set);
		assert_int_equal(log_get_level(), cases[i].set);
		assert_int_equal(log_enabled(LOG_LEVEL_ERROR), cases[i].error);
		assert_int_equal(log_enabled(LOG_LEVEL_WARN), cases[i].warn);
		assert_int_equal(log_enabled(LOG_LEVEL_INFO), cases[i].info);
		assert_int_equal(log_enabled(LOG_LEVEL_DEBUG), cases[i].debug);
		assert_int_equal(log_enabled(LOG_LEVEL_TRACE), cases[i].trace);
		/* OFF is never a level a message is "enabled" at */
		assert_false(log_enabled(LOG_LEVEL_OFF));

		sink_lines.n = 0;
		log_error("e %d", 1);
		log_warn("w %d", 2);
		log_info("i %d", 3);
		log_debug("d %d", 4);
		log_trace("t %d", 5);
		assert_int_equal(sink_lines.n, expected);
		if (expected > 0) {
			assert_string_equal(sink_lines.line[0], "e 1");
			assert_int_equal(sink_lines.level[0], LOG_LEVEL_ERROR);
		}
		if (expected == 5) {
			assert_string_equal(sink_lines.line[4], "t 5");
			assert_int_equal(sink_lines.level[4], LOG_LEVEL_TRACE);
		}
	}
}

static void test_log_peer_burst(void **state)
{
	for (int i = 0; i < LOG_PEER_BURST + 5; i++) {
		log_guest("bad command %d", i);
	}
	assert_int_equal(sink_lines.n, LOG_PEER_BURST);
	for (unsigned int i = 0; i < LOG_PEER_BURST; i++) {
		char expect[64];

		snprintf(expect, sizeof(expect), "guest: bad command %u", i);
		assert_string_equal(sink_lines.line[i], expect);
		assert_int_equal(sink_lines.level[i], LOG_LEVEL_WARN);
	}
	/* the limit is shared: the frontend is suppressed in the same window */
	log_frontend("bad message");
	assert_int_equal(sink_lines.n, LOG_PEER_BURST);
	assert_int_equal(log_peer_reset(), 6);

	/* after a reset the burst is available again, and the tag is the caller's */
	sink_lines.n = 0;
	log_frontend("short read of %u bytes", 3u);
	assert_int_equal(sink_lines.n, 1);
	assert_string_equal(sink_lines.line[0], "frontend: short read of 3 bytes");
	assert_int_equal(log_peer_reset(), 0);
}

static void test_log_peer_disabled(void **state)
{
	/* below WARN, peer lines are neither printed nor counted */
	log_set_level(LOG_LEVEL_ERROR);
	for (int i = 0; i < LOG_PEER_BURST * 3; i++) {
		log_guest("x");
	}
	assert_int_equal(sink_lines.n, 0);
	assert_int_equal(log_peer_reset(), 0);
}

static void test_log_peer_window(void **state)
{
	struct timespec ts = {
		.tv_sec = LOG_PEER_INTERVAL_MS / 1000,
		.tv_nsec = (LOG_PEER_INTERVAL_MS % 1000) * 1000000L + 200000000L,
	};

	for (int i = 0; i < LOG_PEER_BURST + 2; i++) {
		log_guest("flood");
	}
	assert_int_equal(sink_lines.n, LOG_PEER_BURST);
	/* the next window reports how many lines were dropped, once */
	nanosleep(&ts, NULL);
	log_guest("again");
	assert_int_equal(sink_lines.n, LOG_PEER_BURST + 1);
	assert_string_equal(sink_lines.line[LOG_PEER_BURST],
		"guest: again (2 similar messages suppressed)");
	log_guest("more");
	assert_string_equal(sink_lines.line[LOG_PEER_BURST + 1], "guest: more");
	assert_int_equal(log_peer_reset(), 2);
}

/* ---- event loop --------------------------------------------------------------------------- */

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

/* ---- fd helpers --------------------------------------------------------------------------- */

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
		cmocka_unit_test(test_checked_add_u64),
		cmocka_unit_test(test_checked_mul_u64),
		cmocka_unit_test(test_checked_u32),
		cmocka_unit_test(test_checked_align),
		cmocka_unit_test(test_range_within),
		cmocka_unit_test(test_rect_within),
		cmocka_unit_test(test_id_table_basic),
		cmocka_unit_test(test_id_table_limit),
		cmocka_unit_test(test_id_table_many),
		cmocka_unit_test(test_id_table_churn),
		cmocka_unit_test(test_id_table_iterate),
		cmocka_unit_test(test_log_parse_level),
		cmocka_unit_test(test_log_parse_filter),
		cmocka_unit_test(test_log_parse_filter_long),
		cmocka_unit_test_setup_teardown(test_log_levels, log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(test_log_peer_burst, log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(test_log_peer_disabled, log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(test_log_peer_window, log_setup, log_teardown),
		cmocka_unit_test(test_event_loop_fd),
		cmocka_unit_test(test_event_loop_remove_other),
		cmocka_unit_test(test_event_loop_remove_self),
		cmocka_unit_test(test_event_loop_set_events),
		cmocka_unit_test(test_event_loop_add_errors),
		cmocka_unit_test(test_event_loop_timer),
		cmocka_unit_test(test_event_loop_run_quit),
		cmocka_unit_test(test_event_loop_signal),
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
