/* SPDX-License-Identifier: MIT */
/*
 * One logging family for the whole daemon. Lower layers return errors; the
 * layer that decides what to do logs once. Messages caused by the guest or
 * the frontend go through log_guest()/log_peer(), which are tagged and
 * rate-limited so a hostile peer cannot flood the host log.
 */
#ifndef VDG_LOG_H
#define VDG_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_OFF = 0,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE,
};

/* Default level when RUST_LOG is not set. */
#define LOG_LEVEL_DEFAULT LOG_LEVEL_INFO

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/*
 * Parses a RUST_LOG-style filter: "info", "vhost_device_gpu=debug",
 * "warn,vhost_device_gpu=trace", "off". A directive naming our crate (or one
 * of its modules, "vhost_device_gpu::...") wins over the bare default;
 * directives for other crates are ignored. Returns 0 and the level in
 * *ret_level, or -EINVAL for an unknown level word (then *ret_level is
 * untouched).
 */
int log_parse_filter(const char *filter, enum log_level *ret_level);

/* Parses one level word ("error".."trace", "off", case-insensitive). */
int log_parse_level(const char *word, enum log_level *ret_level);

bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Rate-limited warning about something a peer did ("guest" or "frontend").
 * At most LOG_PEER_BURST lines per LOG_PEER_INTERVAL_MS; the rest are counted
 * and the count is reported with the next line that gets through.
 */
#define LOG_PEER_BURST 10
#define LOG_PEER_INTERVAL_MS 5000
void log_peer(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Test hook: forget the rate-limit state. Returns lines suppressed so far. */
unsigned long log_peer_reset(void);

/* Test hook: divert output (NULL restores stderr). */
typedef void (*log_sink_fn)(enum log_level level, const char *line);
void log_set_sink(log_sink_fn sink);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LEVEL_DEBUG)) {                                                \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                     \
		}                                                                                  \
	} while (0)
#define log_trace(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_LEVEL_TRACE)) {                                                \
			log_msg(LOG_LEVEL_TRACE, __VA_ARGS__);                                     \
		}                                                                                  \
	} while (0)
#define log_guest(...) log_peer("guest", __VA_ARGS__)
#define log_frontend(...) log_peer("frontend", __VA_ARGS__)

#endif /* VDG_LOG_H */
