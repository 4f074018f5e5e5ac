/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level current_level = LOG_LEVEL_DEFAULT;
static log_sink_fn current_sink;

/* Rate-limit state for peer-caused lines (one daemon thread owns it). */
static struct {
	long long window_start_ms;
	unsigned int in_window;
	unsigned long suppressed;
	unsigned long suppressed_total;
} peer_limit;

static const char *const level_names[] = {
	[LOG_LEVEL_OFF] = "off",
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_TRACE] = "trace",
};

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

bool log_enabled(enum log_level level)
{
	return level != LOG_LEVEL_OFF && level <= current_level;
}

void log_set_sink(log_sink_fn sink)
{
	current_sink = sink;
}

int log_parse_level(const char *word, enum log_level *ret_level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(word, level_names[i]) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(word, "warning") == 0) {
		*ret_level = LOG_LEVEL_WARN;
		return 0;
	}
	return -EINVAL;
}

/* Does a RUST_LOG target name us? "vhost_device_gpu" or a module of it. */
static bool target_is_ours(const char *target, size_t len)
{
	static const char crate[] = "vhost_device_gpu";
	const size_t crate_len = sizeof(crate) - 1;

	if (len < crate_len || strncmp(target, crate, crate_len) != 0) {
		return false;
	}
	return len == crate_len || (len > crate_len + 1 && target[crate_len] == ':');
}

int log_parse_filter(const char *filter, enum log_level *ret_level)
{
	enum log_level fallback = LOG_LEVEL_DEFAULT, ours = LOG_LEVEL_OFF;
	bool have_ours = false;
	const char *p = filter;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char directive[128];
		enum log_level level;

		if (len >= sizeof(directive)) {
			return -EINVAL;
		}
		memcpy(directive, p, len);
		directive[len] = '\0';

		char *eq = strchr(directive, '=');
		if (len == 0) {
			/* empty directive ("info,,debug"): ignore, as env_logger does */
		} else if (eq) {
			*eq = '\0';
			if (log_parse_level(eq + 1, &level) < 0) {
				return -EINVAL;
			}
			if (target_is_ours(directive, strlen(directive))) {
				ours = level;
				have_ours = true;
			}
		} else if (log_parse_level(directive, &level) == 0) {
			fallback = level;
		} else if (target_is_ours(directive, len)) {
			/* a bare target enables everything for it, like env_logger */
			ours = LOG_LEVEL_TRACE;
			have_ours = true;
		} else if (strspn(directive, "abcdefghijklmnopqrstuvwxyz0123456789_:") != len) {
			return -EINVAL;
		}
		p += len;
		if (*p == ',') {
			p++;
		}
	}
	*ret_level = have_ours ? ours : fallback;
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit(enum log_level level, const char *line)
{
	if (current_sink) {
		current_sink(level, line);
		return;
	}
	fprintf(stderr, "[vhost-device-gpu %s] %s\n", level_names[level], line);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024];

	if (!log_enabled(level)) {
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	emit(level, line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_peer(const char *who, const char *fmt, ...)
{
	char body[900], line[1024];
	long long now = now_ms();
	va_list ap;

	if (!log_enabled(LOG_LEVEL_WARN)) {
		return;
	}
	if (now - peer_limit.window_start_ms >= LOG_PEER_INTERVAL_MS) {
		peer_limit.window_start_ms = now;
		peer_limit.in_window = 0;
	}
	if (peer_limit.in_window >= LOG_PEER_BURST) {
		peer_limit.suppressed++;
		peer_limit.suppressed_total++;
		return;
	}
	peer_limit.in_window++;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (peer_limit.suppressed) {
		snprintf(line, sizeof(line), "%s: %s (%lu similar messages suppressed)", who, body,
			peer_limit.suppressed);
		peer_limit.suppressed = 0;
	} else {
		snprintf(line, sizeof(line), "%s: %s", who, body);
	}
	emit(LOG_LEVEL_WARN, line);
}

unsigned long log_peer_reset(void)
{
	unsigned long total = peer_limit.suppressed_total;

	memset(&peer_limit, 0, sizeof(peer_limit));
	return total;
}
