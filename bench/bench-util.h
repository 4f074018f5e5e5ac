/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the benchmarks: a monotonic clock, CPU pinning, starting and
 * stopping a back-end process pinned to one CPU, its RSS from /proc, and
 * small statistics. Functions return >= 0 or a negative errno.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A back-end under test: one process per session, listening on its own socket. */
struct bench_backend {
	const char *name;  /* "ours" or "qemu", for messages */
	const char *path;  /* executable */
	bool qemu;         /* QEMU's options (--socket-path=P); exits after one connection */
	pid_t pid;         /* -1 when not running */
	char sock[108];    /* socket path of the running process */
	char log[160];     /* its stdout and stderr */
};

/* RSS counters of a process, in KiB, from /proc/PID/status. */
struct bench_rss {
	uint64_t vm_rss;
	uint64_t rss_anon;
	uint64_t rss_file;
	uint64_t rss_shmem;
};

/* CPU time, in clock ticks (USER_HZ). */
struct bench_cpu {
	uint64_t busy;  /* all CPUs, everything but idle and iowait (/proc/stat) */
	uint64_t total; /* all CPUs */
};

uint64_t bench_now_ns(void);
/* Pins the calling thread (and what it forks later) to one CPU. */
int bench_pin_self(int cpu);
/* Number of CPUs this process may run on. */
int bench_cpus_allowed(void);

/*
 * Starts b->path pinned to cpu, listening on dir/<name>-<seq>.sock, output
 * to dir/<name>-<seq>.log; extra_args (NULL-terminated, may be NULL) go to
 * our daemon only. Returns 0 once the process runs (the caller's connect
 * retries until the socket listens), or -errno.
 */
int bench_backend_start(struct bench_backend *b, const char *dir, unsigned int seq, int cpu,
	const char *const *extra_args);
/* True while the process has not exited (reaps it if it has). */
bool bench_backend_alive(struct bench_backend *b);
/*
 * Ends the process: waits up to wait_ms for it to exit by itself (QEMU's
 * back-end does after its one connection), then SIGTERM, then SIGKILL.
 * Returns its wait status, or -errno.
 */
int bench_backend_stop(struct bench_backend *b, int wait_ms);
/* Prints the last lines of the back-end's log to stderr. */
void bench_backend_dump_log(const struct bench_backend *b);

int bench_rss_read(pid_t pid, struct bench_rss *ret);

int bench_cpu_read(struct bench_cpu *ret);
/* utime + stime of a process (0 = ourselves), in clock ticks; 0 if unknown. */
uint64_t bench_proc_ticks(pid_t pid);
/* Clock ticks per second (USER_HZ). */
long bench_ticks_per_s(void);
/*
 * Waits until the machine has been quiet (at most max_busy CPUs busy, e.g.
 * 0.05) for one 500 ms window, up to max_wait_s. Returns the busy CPUs seen
 * in the last window (so > max_busy means it gave up).
 */
double bench_wait_quiet(double max_busy, double max_wait_s);

/* Median of n values (n > 0); v is reordered. */
double bench_median(double *v, size_t n);
/* Nearest-rank percentile p (0 < p <= 100) of n values (n > 0); v is reordered. */
double bench_percentile(double *v, size_t n, double p);

#endif /* BENCH_UTIL_H */
