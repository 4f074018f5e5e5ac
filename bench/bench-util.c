/* SPDX-License-Identifier: MIT */
/* Clock, pinning, back-end processes, RSS and statistics for the benchmarks. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define MAX_ARGS 16

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set) < 0 ? -errno : 0;
}

int bench_pin_self(int cpu)
{
	return pin(0, cpu);
}

int bench_cpus_allowed(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		return -errno;
	}
	return CPU_COUNT(&set);
}

int bench_backend_start(struct bench_backend *b, const char *dir, unsigned int seq, int cpu,
	const char *const *extra_args)
{
	char sock_arg[sizeof(b->sock) + 20];
	const char *args[MAX_ARGS];
	unsigned int n = 0;
	int logfd;

	if (access(b->path, X_OK) < 0) {
		int e = -errno;

		fprintf(stderr, "bench: %s back-end %s: %s\n", b->name, b->path, strerror(-e));
		return e;
	}
	snprintf(b->sock, sizeof(b->sock), "%s/%s-%u.sock", dir, b->name, seq);
	snprintf(b->log, sizeof(b->log), "%s/%s-%u.log", dir, b->name, seq);
	unlink(b->sock);
	args[n++] = b->path;
	if (b->qemu) {
		snprintf(sock_arg, sizeof(sock_arg), "--socket-path=%s", b->sock);
		args[n++] = sock_arg;
	} else {
		args[n++] = "--socket-path";
		args[n++] = b->sock;
		for (unsigned int i = 0; extra_args && extra_args[i] && n < MAX_ARGS - 1; i++) {
			args[n++] = extra_args[i];
		}
	}
	args[n] = NULL;
	logfd = open(b->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0) {
		return -errno;
	}
	fflush(NULL);
	b->pid = fork();
	if (b->pid < 0) {
		int e = -errno;

		close(logfd);
		return e;
	}
	if (b->pid == 0) {
		/* never outlive the benchmark, whatever happens to it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (pin(0, cpu) < 0) {
			_exit(126);
		}
		dup2(logfd, 1);
		dup2(logfd, 2);
		signal(SIGPIPE, SIG_DFL);
		execv(b->path, (char *const *)args);
		_exit(127);
	}
	close(logfd);
	return 0;
}

bool bench_backend_alive(struct bench_backend *b)
{
	int status;

	if (b->pid <= 0) {
		return false;
	}
	if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
		b->pid = -1;
		return false;
	}
	return true;
}

static int wait_exit(struct bench_backend *b, int wait_ms, int *status)
{
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(b->pid, status, WNOHANG);

		if (r == b->pid) {
			b->pid = -1;
			return 0;
		}
		if (r < 0) {
			b->pid = -1;
			return -errno;
		}
		if (waited >= wait_ms) {
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
}

int bench_backend_stop(struct bench_backend *b, int wait_ms)
{
	int status = 0, r;

	if (b->pid <= 0) {
		return 0;
	}
	r = wait_exit(b, wait_ms, &status);
	if (r == -ETIMEDOUT) {
		kill(b->pid, SIGTERM);
		r = wait_exit(b, 2000, &status);
	}
	if (r == -ETIMEDOUT) {
		kill(b->pid, SIGKILL);
		r = wait_exit(b, 2000, &status);
	}
	unlink(b->sock);
	return r < 0 ? r : status;
}

void bench_backend_dump_log(const struct bench_backend *b)
{
	char line[512];
	char ring[20][512];
	unsigned int n = 0;
	FILE *f = fopen(b->log, "r");

	if (!f) {
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		snprintf(ring[n % 20], sizeof(ring[0]), "%s", line);
		n++;
	}
	fclose(f);
	fprintf(stderr, "bench: last lines of %s:\n", b->log);
	for (unsigned int i = n > 20 ? n - 20 : 0; i < n; i++) {
		fprintf(stderr, "  | %s", ring[i % 20]);
	}
}

int bench_rss_read(pid_t pid, struct bench_rss *ret)
{
	char path[64], line[256];
	struct bench_rss rss = { 0 };
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f) {
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kib;

		if (sscanf(line, "VmRSS: %llu kB", &kib) == 1) {
			rss.vm_rss = kib;
			found = true;
		} else if (sscanf(line, "RssAnon: %llu kB", &kib) == 1) {
			rss.rss_anon = kib;
		} else if (sscanf(line, "RssFile: %llu kB", &kib) == 1) {
			rss.rss_file = kib;
		} else if (sscanf(line, "RssShmem: %llu kB", &kib) == 1) {
			rss.rss_shmem = kib;
		}
	}
	fclose(f);
	if (!found) {
		return -ENODATA;
	}
	*ret = rss;
	return 0;
}

int bench_cpu_read(struct bench_cpu *ret)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f) {
		return -errno;
	}
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		&v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 5) {
		return -ENODATA;
	}
	ret->total = 0;
	for (int i = 0; i < 8; i++) {
		ret->total += v[i];
	}
	ret->busy = ret->total - v[3] - v[4];
	return 0;
}

uint64_t bench_proc_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ut = 0, st = 0;
	const char *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid ? (int)pid : (int)getpid());
	f = fopen(path, "r");
	if (!f) {
		return 0;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name may hold spaces: fields count from after its ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			  &st) != 2) {
		return 0;
	}
	return ut + st;
}

long bench_ticks_per_s(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? hz : 100;
}

double bench_wait_quiet(double max_busy, double max_wait_s)
{
	uint64_t start = bench_now_ns();
	double busy = 0;

	for (;;) {
		struct bench_cpu a, b;
		uint64_t t0 = bench_now_ns(), t1;

		if (bench_cpu_read(&a) < 0) {
			return 0;
		}
		usleep(500 * 1000);
		t1 = bench_now_ns();
		if (bench_cpu_read(&b) < 0) {
			return 0;
		}
		busy = (double)(b.busy - a.busy) / (double)bench_ticks_per_s() /
			((double)(t1 - t0) / 1e9);
		if (busy <= max_busy || (double)(t1 - start) / 1e9 >= max_wait_s) {
			return busy;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double p)
{
	size_t rank;

	qsort(v, n, sizeof(*v), cmp_double);
	rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1) {
		rank = 1;
	}
	if (rank > n) {
		rank = n;
	}
	return v[rank - 1];
}

double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}
