/* SPDX-License-Identifier: MIT */
/* Integration-test helpers: see itest.h. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

const char *itest_bin;
struct itest_daemon itest_d = {.pid = -1};
struct vdgfe *itest_fe;
/* cmocka reports a failed group fixture but still exits 0: remember it ourselves. */
static bool fixture_failed;

int itest_exit(int cmocka_result)
{
	if (fixture_failed) {
		fprintf(stderr, "itest: a fixture failed (daemon setup, survival or shutdown)\n");
	}
	return cmocka_result ? cmocka_result : fixture_failed ? 1 : 0;
}

void itest_init(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s path/to/vhost-device-gpu\n", argv[0]);
		exit(2);
	}
	itest_bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
}

int itest_daemon_start(struct itest_daemon *d, const char *bin, const char *const *extra)
{
	const char *args[32];
	unsigned int n = 0;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->dir, sizeof(d->dir), "/tmp/vdg-it.XXXXXX");
	if (!mkdtemp(d->dir)) {
		return -errno;
	}
	snprintf(d->sock, sizeof(d->sock), "%s/s", d->dir);
	snprintf(d->errlog, sizeof(d->errlog), "%s/stderr", d->dir);
	args[n++] = bin;
	args[n++] = "--socket-path";
	args[n++] = d->sock;
	args[n++] = "--gpu-mode";
	args[n++] = "2d";
	for (unsigned int i = 0; extra && extra[i] && n < 30; i++) {
		args[n++] = extra[i];
	}
	args[n] = NULL;

	d->pid = fork();
	if (d->pid < 0) {
		return -errno;
	}
	if (d->pid == 0) {
		int fd = open(d->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			dup2(fd, 2);
		}
		if (nul >= 0) {
			dup2(nul, 1);
		}
		signal(SIGPIPE, SIG_DFL);
		execv(bin, (char *const *)args);
		_exit(127);
	}
	/* the socket file appears once the daemon listens */
	for (int i = 0; i < ITEST_TIMEOUT_MS / 10; i++) {
		struct stat st;

		if (stat(d->sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
			return 0;
		}
		if (!itest_daemon_alive(d)) {
			fprintf(stderr, "itest: daemon exited before listening\n");
			return -ECHILD;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

bool itest_daemon_alive(struct itest_daemon *d)
{
	int status;

	if (d->pid <= 0) {
		return false;
	}
	if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
		fprintf(stderr, "itest: daemon %d ended: %s %d\n", (int)d->pid,
		        WIFEXITED(status) ? "exit" : "signal",
		        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		d->pid = -1;
		return false;
	}
	return true;
}

char *itest_daemon_log(const struct itest_daemon *d)
{
	FILE *f = fopen(d->errlog, "r");
	char *buf;
	long len;

	if (!f) {
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
	if (buf && len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		buf[0] = '\0';
	}
	fclose(f);
	return buf;
}

bool itest_daemon_log_contains(struct itest_daemon *d, const char *s)
{
	char *log = itest_daemon_log(d);
	bool found = log && strstr(log, s);

	free(log);
	return found;
}

unsigned int itest_daemon_log_count(const struct itest_daemon *d, const char *s)
{
	char *log = itest_daemon_log(d);
	unsigned int n = 0;

	for (char *line = log; line && *line;) {
		char *end = strchr(line, '\n');

		if (end) {
			*end = '\0';
		}
		n += strstr(line, s) != NULL;
		line = end ? end + 1 : line + strlen(line);
	}
	free(log);
	return n;
}

static void dump_log(const struct itest_daemon *d)
{
	char *log = itest_daemon_log(d);
	size_t len = log ? strlen(log) : 0;

	/* the end is what matters; a long run logs a lot */
	fprintf(stderr, "---- daemon stderr (last 4000 bytes) ----\n%s\n----\n",
	        log ? log + (len > 4000 ? len - 4000 : 0) : "(none)");
	free(log);
}

int itest_daemon_stop(struct itest_daemon *d)
{
	int status = -1, ret = 0;
	struct stat st;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		for (int i = 0; i < 500; i++) {
			if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
				break;
			}
			status = -1;
			usleep(10000);
		}
		if (status == -1) {
			fprintf(stderr, "itest: daemon ignored SIGTERM for 5 s\n");
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			ret = -1;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "itest: daemon exit: %s %d (want exit 0)\n",
			        WIFEXITED(status) ? "status" : "signal",
			        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			ret = -1;
		}
		d->pid = -1;
	} else {
		fprintf(stderr, "itest: daemon was not running at the end\n");
		ret = -1;
	}
	if (lstat(d->sock, &st) == 0) {
		fprintf(stderr, "itest: socket %s left behind\n", d->sock);
		ret = -1;
	}
	if (itest_daemon_log_contains(d, "AddressSanitizer") ||
	        itest_daemon_log_contains(d, "LeakSanitizer") ||
	        itest_daemon_log_contains(d, "runtime error")) {
		fprintf(stderr, "itest: sanitizer report in the daemon's stderr\n");
		ret = -1;
	}
	if (ret < 0) {
		dump_log(d);
	}
	unlink(d->sock);
	unlink(d->errlog);
	rmdir(d->dir);
	return ret;
}

int itest_group_setup_args(const char *const *extra)
{
	if (itest_daemon_start(&itest_d, itest_bin, extra) < 0) {
		dump_log(&itest_d);
		fixture_failed = true;
		return -1;
	}
	return 0;
}

int itest_group_setup(void **state)
{
	(void)state;
	return itest_group_setup_args(NULL);
}

int itest_group_teardown(void **state)
{
	(void)state;
	itest_fe_destroy();
	if (itest_daemon_stop(&itest_d) < 0) {
		fixture_failed = true;
		return -1;
	}
	return 0;
}

int itest_teardown(void **state)
{
	(void)state;
	itest_fe_destroy();
	if (!itest_daemon_alive(&itest_d)) {
		dump_log(&itest_d);
		fixture_failed = true;
		fail_msg("the daemon died during this test");
	}
	return 0;
}

void itest_config(struct vdgfe_config *cfg)
{
	vdgfe_config_init(cfg);
	cfg->socket_path = itest_d.sock;
	cfg->timeout_ms = ITEST_TIMEOUT_MS;
}

struct vdgfe *itest_fe_start(const struct vdgfe_config *cfg)
{
	struct vdgfe_config def;
	int r;

	if (!cfg) {
		itest_config(&def);
		cfg = &def;
	}
	itest_fe_destroy();
	itest_fe = vdgfe_create(cfg);
	if (!itest_fe) {
		fail_msg("connect to %s: %s", cfg->socket_path, strerror(errno));
	}
	r = vdgfe_negotiate(itest_fe);
	if (r < 0) {
		fail_msg("negotiate: %s", strerror(-r));
	}
	r = vdgfe_start(itest_fe);
	if (r < 0) {
		fail_msg("start: %s", strerror(-r));
	}
	return itest_fe;
}

void itest_fe_destroy(void)
{
	itest_fe = vdgfe_destroy(itest_fe);
}

struct sink_wait {
	uint32_t req;
	uint64_t n;
};

static int sink_count_reached(struct vdgfe *fe, void *arg)
{
	const struct sink_wait *w = arg;

	return fe->sink.counts[w->req] >= w->n ? 1 : 0;
}

int itest_wait_sink(struct vdgfe *fe, uint32_t req, uint64_t n)
{
	struct sink_wait w = {req, n};

	return vdgfe_wait(fe, sink_count_reached, &w, ITEST_TIMEOUT_MS);
}

void itest_drain_display(struct vdgfe *fe)
{
	vdgfe_service(fe);
}

uint64_t itest_resource(struct vdgfe *fe, uint32_t id, uint32_t format, uint32_t w, uint32_t h)
{
	uint64_t gpa = 0, size = (uint64_t)w * h * 4;

	assert_int_equal(
	        vdgfe_gpu_resource_create_2d(fe, id, format, w, h), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_mem_alloc(fe, size, 4096, 0, &gpa), 0);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, id, gpa, size, 0), VIRTIO_GPU_RESP_OK_NODATA);
	return gpa;
}

int itest_exec(struct vdgfe *fe, unsigned int q, const void *req, size_t len)
{
	return vdgfe_gpu_exec(fe, q, req, len, NULL, 0, NULL);
}

void itest_batch(struct vdgfe *fe, uint32_t n, itest_req_fn fn, void *arg, uint32_t want)
{
	struct vdgfe_submit_opts opts = {.indirect = true, .no_kick = true};
	struct vdgfe_vq *vq = &fe->vqs[VDGFE_CTRLQ];
	uint8_t *buf = malloc(ITEST_BATCH_REQ_MAX);
	struct vdgfe_cmd **cmds = calloc(vq->num, sizeof(*cmds));

	assert_non_null(buf);
	assert_non_null(cmds);
	assert_true(vq->num_free > 0);
	for (uint32_t base = 0; base < n;) {
		uint32_t batch = n - base < vq->num_free ? n - base : vq->num_free;

		for (uint32_t i = 0; i < batch; i++) {
			size_t len = fn(fe, base + i, buf, arg);

			assert_true(len > 0 && len <= ITEST_BATCH_REQ_MAX);
			assert_int_equal(
			        vdgfe_gpu_submit(fe, VDGFE_CTRLQ, buf, len,
			                sizeof(struct virtio_gpu_ctrl_hdr), &opts, &cmds[i]),
			        0);
		}
		assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
		assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
		for (uint32_t i = 0; i < batch; i++) {
			uint32_t type = vdgfe_cmd_resp_type(fe, cmds[i]);

			if (type != want) {
				fail_msg("batched request %u: answer 0x%x, want 0x%x", base + i,
				        type, want);
			}
			vdgfe_cmd_free(fe, cmds[i]);
		}
		base += batch;
	}
	free(cmds);
	free(buf);
}

/* Byte positions of R, G, B and A (-1: X) in memory order, per virtio-gpu.md §7. */
static void format_layout(uint32_t fmt, int *r, int *g, int *b, int *a)
{
	switch (fmt) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
		*b = 0;
		*g = 1;
		*r = 2;
		*a = 3;
		break;
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
		*b = 0;
		*g = 1;
		*r = 2;
		*a = -1;
		break;
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
		*a = 0;
		*r = 1;
		*g = 2;
		*b = 3;
		break;
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
		*a = -1;
		*r = 1;
		*g = 2;
		*b = 3;
		break;
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
		*r = 0;
		*g = 1;
		*b = 2;
		*a = 3;
		break;
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
		*a = -1;
		*b = 1;
		*g = 2;
		*r = 3;
		break;
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
		*a = 0;
		*b = 1;
		*g = 2;
		*r = 3;
		break;
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		*r = 0;
		*g = 1;
		*b = 2;
		*a = -1;
		break;
	default:
		fail_msg("unknown format %u", fmt);
	}
}

uint32_t itest_expected_xrgb(uint32_t fmt, const uint8_t px[4])
{
	int r, g, b, a;

	format_layout(fmt, &r, &g, &b, &a);
	return (uint32_t)px[r] << 16 | (uint32_t)px[g] << 8 | px[b];
}

uint32_t itest_expected_argb(uint32_t fmt, const uint8_t px[4])
{
	int r, g, b, a;

	format_layout(fmt, &r, &g, &b, &a);
	return (a < 0 ? 0xffu : (uint32_t)px[a]) << 24 | itest_expected_xrgb(fmt, px);
}

int itest_memfd(size_t size, uint8_t **ret_map)
{
	int fd = memfd_create("itest-ram", MFD_CLOEXEC);
	void *p;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	*ret_map = p;
	return fd;
}

int itest_set_mem_table(struct vdgfe *fe, int fd, uint8_t *hva)
{
	struct {
		uint32_t nregions, padding;
		struct vu_mem_region r[2];
	} t;
	int fds[2] = {fe->regions[0].fd, fd};

	memset(&t, 0, sizeof(t));
	t.nregions = fd >= 0 ? 2 : 1;
	t.r[0] = (struct vu_mem_region){
	        fe->regions[0].gpa, fe->regions[0].size, (uintptr_t)fe->regions[0].hva, 0};
	t.r[1] = (struct vu_mem_region){fe->regions[1].gpa, fe->regions[1].size, (uintptr_t)hva, 0};
	return vdgfe_send(fe, VU_REQ_SET_MEM_TABLE, &t,
	        VU_MEM_TABLE_HDR_SIZE + t.nregions * (uint32_t)sizeof(t.r[0]), fds, t.nregions,
	        true);
}
