/* SPDX-License-Identifier: MIT */
/*
* Unit tests for logging (src/util/log.c): level and filter parsing, levels, the peer rate
 * limit.
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
#include "log.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_parse_level),
		cmocka_unit_test(test_log_parse_filter),
		cmocka_unit_test(test_log_parse_filter_long),
		cmocka_unit_test_setup_teardown(test_log_levels, log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(test_log_peer_burst, log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(test_log_peer_disabled, log_setup, log_teardown),
		cmocka_unit_test_setup_teardown(test_log_peer_window, log_setup, log_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
