/* SPDX-License-Identifier: MIT */
/*
 * Reference test: runs libvdgfe against QEMU's own back-end
 * (/usr/lib/qemu/vhost-user-gpu, QEMU 7.2) and checks what a correct
 * back-end must do. Each case starts a fresh back-end process.
 *
 * Usage: test-qemu-reference [BACKEND_BINARY]   (exit 77 = skipped)
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend.h"
#include "gpu-driver.h"

static const char *backend = "/usr/lib/qemu/vhost-user-gpu";
static char sock_path[108];
static pid_t backend_pid = -1;
static int failures;

#define CHECK(cond, ...)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #cond);          \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			failures++;                                                              \
			return -1;                                                               \
		}                                                                                \
	} while (0)

static void start_backend(void)
{
	unlink(sock_path);
	backend_pid = fork();
	if (backend_pid == 0) {
		char arg[160];

		snprintf(arg, sizeof(arg), "--socket-path=%s", sock_path);
		execl(backend, backend, arg, (char *)NULL);
		_exit(127);
	}
}

/* Waits for the back-end to exit (it serves one connection); kills it after 5 s. */
static int reap_backend(void)
{
	int status = 0;

	for (int i = 0; i < 500; i++) {
		if (waitpid(backend_pid, &status, WNOHANG) == backend_pid) {
			backend_pid = -1;
			return status;
		}
		usleep(10000);
	}
	kill(backend_pid, SIGKILL);
	waitpid(backend_pid, &status, 0);
	backend_pid = -1;
	return -1;
}

static struct vdgfe *connect_fe(struct vdgfe_config *cfg)
{
	struct vdgfe_config def;

	if (!cfg) {
		vdgfe_config_init(&def);
		cfg = &def;
	}
	cfg->socket_path = sock_path;
	start_backend();
	return vdgfe_create(cfg);
}

static struct vdgfe *started_fe(struct vdgfe_config *cfg)
{
	struct vdgfe *fe = connect_fe(cfg);

	if (!fe) {
		return NULL;
	}
	if (vdgfe_negotiate(fe) < 0 || vdgfe_start(fe) < 0) {
		vdgfe_destroy(fe);
		return NULL;
	}
	return fe;
}

static int test_negotiate(void)
{
	struct vdgfe *fe = connect_fe(NULL);
	int r;

	CHECK(fe, "connect: %s", strerror(errno));
	r = vdgfe_negotiate(fe);
	CHECK(r == 0, "negotiate: %s", strerror(-r));
	CHECK(vu_has_bit(fe->backend_features, VHOST_USER_F_PROTOCOL_FEATURES_BIT), "no bit 30");
	CHECK(vu_has_bit(fe->backend_features, VIRTIO_F_VERSION_1_BIT), "no VERSION_1");
	CHECK(vu_has_bit(fe->protocol, VU_PROTOCOL_F_MQ), "no MQ");
	CHECK(vu_has_bit(fe->protocol, VU_PROTOCOL_F_REPLY_ACK), "no REPLY_ACK");
	CHECK(vu_has_bit(fe->protocol, VU_PROTOCOL_F_CONFIG), "no CONFIG");
	CHECK(fe->queue_num == 2, "queue_num %" PRIu64, fe->queue_num);
	vdgfe_destroy(fe);
	CHECK(reap_backend() == 0, "back-end exit status");
	return 0;
}

static int test_display_info(void)
{
	struct vdgfe_config cfg;
	struct virtio_gpu_resp_display_info info;
	struct vdgfe *fe;
	int r;

	vdgfe_config_init(&cfg);
	cfg.sink.protocol_features = 0; /* QEMU 7.2 */
	cfg.sink.outputs = 2;
	cfg.sink.width = 1024;
	cfg.sink.height = 768;
	fe = started_fe(&cfg);
	CHECK(fe, "start failed");
	r = vdgfe_gpu_get_display_info(fe, &info);
	CHECK(r == VIRTIO_GPU_RESP_OK_DISPLAY_INFO, "response 0x%x", r);
	CHECK(info.pmodes[0].enabled && info.pmodes[0].r.width == 1024 &&
			info.pmodes[0].r.height == 768, "mode 0 %ux%u", info.pmodes[0].r.width,
		info.pmodes[0].r.height);
	CHECK(info.pmodes[1].enabled, "output 1 not enabled");
	CHECK(!info.pmodes[2].enabled, "output 2 enabled");
	CHECK(fe->sink.counts[VUGPU_GET_PROTOCOL_FEATURES] == 1, "GET_PROTOCOL_FEATURES count");
	CHECK(fe->sink.counts[VUGPU_GET_DISPLAY_INFO] >= 1, "GET_DISPLAY_INFO not forwarded");
	CHECK(fe->sink.set_protocol_seen && fe->sink.set_protocol_features == 0,
		"SET_PROTOCOL_FEATURES 0x%" PRIx64, fe->sink.set_protocol_features);
	r = vdgfe_stop(fe, false, NULL);
	CHECK(r == 0, "stop: %s", strerror(-r));
	CHECK(fe->sink.violations == 0, "violations: %s", fe->sink.last_violation);
	vdgfe_destroy(fe);
	reap_backend();
	return 0;
}

/* Queues fenced commands without kicking, kicks once, checks in-order completion. */
static int test_fences(void)
{
	struct vdgfe_cmd *cmds[8];
	struct vdgfe *fe = started_fe(NULL);
	struct vdgfe_submit_opts opts = { .no_kick = true };
	uint32_t bases[2];
	int r;

	CHECK(fe, "start failed");
	for (unsigned int i = 0; i < 8; i++) {
		struct virtio_gpu_resource_create_2d req;

		memset(&req, 0, sizeof(req));
		req.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D;
		req.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
		req.hdr.fence_id = 100 + i;
		req.resource_id = 10 + i;
		req.format = VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM;
		req.width = 64;
		req.height = 64;
		opts.indirect = i & 1;
		opts.req_split = i & 2 ? 8 : 0;
		r = vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &req, sizeof(req), 24, &opts, &cmds[i]);
		CHECK(r == 0, "submit %u: %s", i, strerror(-r));
	}
	CHECK(vdgfe_vq_in_flight(&fe->vqs[0]) == 8, "in flight");
	r = vdgfe_gpu_kick(fe, VDGFE_CTRLQ);
	CHECK(r >= 0, "kick");
	r = vdgfe_gpu_wait_all(fe, -1);
	CHECK(r == 0, "wait_all: %s", strerror(-r));
	for (unsigned int i = 0; i < 8; i++) {
		struct virtio_gpu_ctrl_hdr hdr;

		CHECK(cmds[i]->done_seq == cmds[i]->submit_seq, "cmd %u completed out of order", i);
		CHECK(vdgfe_cmd_resp(fe, cmds[i], &hdr, sizeof(hdr)) == sizeof(hdr), "resp len");
		CHECK(hdr.type == VIRTIO_GPU_RESP_OK_NODATA, "cmd %u type 0x%x", i, hdr.type);
		CHECK((hdr.flags & VIRTIO_GPU_FLAG_FENCE) && hdr.fence_id == 100 + i,
			"cmd %u fence flags 0x%x id %llu", i, hdr.flags,
			(unsigned long long)hdr.fence_id);
		vdgfe_cmd_free(fe, cmds[i]);
	}
	r = vdgfe_stop(fe, false, bases);
	CHECK(r == 0, "stop: %s", strerror(-r));
	CHECK(bases[0] == 8 && bases[1] == 0, "GET_VRING_BASE %u %u", bases[0], bases[1]);
	vdgfe_destroy(fe);
	reap_backend();
	return 0;
}

static int cursor_arrived(struct vdgfe *fe, void *arg)
{
	const uint32_t *want_x = arg;

	return fe->sink.cursor.defined && fe->sink.cursor.x == *want_x ? 1 : 0;
}

static int test_cursor(void)
{
	struct vdgfe *fe = started_fe(NULL);
	uint32_t img[64 * 64];
	uint64_t gpa;
	uint32_t x;
	int r;

	CHECK(fe, "start failed");
	for (unsigned int i = 0; i < 64 * 64; i++) {
		img[i] = 0x80000000u | i;
	}
	CHECK(vdgfe_mem_alloc(fe, sizeof(img), 4096, 0, &gpa) == 0, "alloc");
	vdgfe_mem_write(fe, gpa, img, sizeof(img));
	r = vdgfe_gpu_resource_create_2d(fe, 5, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64);
	CHECK(r == VIRTIO_GPU_RESP_OK_NODATA, "create 0x%x", r);
	r = vdgfe_gpu_attach_backing(fe, 5, gpa, sizeof(img), 1024);
	CHECK(r == VIRTIO_GPU_RESP_OK_NODATA, "attach 0x%x", r);
	r = vdgfe_gpu_transfer_to_host_2d(fe, 5, 0, 0, 64, 64, 0);
	CHECK(r == VIRTIO_GPU_RESP_OK_NODATA, "transfer 0x%x", r);
	r = vdgfe_gpu_update_cursor(fe, 0, 10, 20, 5, 3, 4);
	CHECK(r >= 0, "update_cursor: %s", strerror(-r));
	x = 10;
	r = vdgfe_wait(fe, cursor_arrived, &x, -1);
	CHECK(r == 0, "no CURSOR_UPDATE");
	CHECK(fe->sink.cursor.y == 20 && fe->sink.cursor.hot_x == 3 && fe->sink.cursor.hot_y == 4,
		"cursor pos/hot");
	CHECK(memcmp(fe->sink.cursor.image, img, sizeof(img)) == 0, "cursor image differs");
	r = vdgfe_gpu_move_cursor(fe, 0, 300, 200);
	CHECK(r >= 0, "move_cursor: %s", strerror(-r));
	x = 300;
	r = vdgfe_wait(fe, cursor_arrived, &x, -1);
	CHECK(r == 0 && fe->sink.cursor.y == 200, "no CURSOR_POS");
	r = vdgfe_stop(fe, false, NULL);
	CHECK(r == 0, "stop");
	CHECK(fe->sink.violations == 0, "violations: %s", fe->sink.last_violation);
	vdgfe_destroy(fe);
	reap_backend();
	return 0;
}

static int test_errors(void)
{
	struct vdgfe *fe = started_fe(NULL);
	struct virtio_gpu_ctrl_hdr shortcmd, resp;
	uint32_t len = 0;
	int r;

	CHECK(fe, "start failed");
	r = vdgfe_gpu_set_scanout(fe, 0, 77, 0, 0, 64, 64);
	CHECK(r == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "unknown resource: 0x%x", r);
	r = vdgfe_gpu_set_scanout(fe, VIRTIO_GPU_MAX_SCANOUTS, 0, 0, 0, 64, 64);
	CHECK(r == VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "bad scanout: 0x%x", r);
	r = vdgfe_gpu_resource_create_2d(fe, 0, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64);
	CHECK(r == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "resource id 0: 0x%x", r);
	r = vdgfe_gpu_resource_unref(fe, 1234);
	CHECK(r == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "unref unknown: 0x%x", r);
	/* A header-only RESOURCE_CREATE_2D (too short). */
	memset(&shortcmd, 0, sizeof(shortcmd));
	shortcmd.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D;
	r = vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &shortcmd, sizeof(shortcmd), &resp, sizeof(resp), &len);
	/*
	 * QEMU 7.2's back-end logs "command size incorrect" but answers
	 * OK_NODATA (VUGPU_FILL_CMD returns without setting an error); our
	 * daemon should answer an error. Only require some response here.
	 */
	CHECK(r > 0 && len >= sizeof(resp), "short command: 0x%x (len %u)", r, len);
	printf("# short RESOURCE_CREATE_2D answered 0x%x\n", (unsigned int)r);
	r = vdgfe_stop(fe, false, NULL);
	CHECK(r == 0, "stop");
	vdgfe_destroy(fe);
	reap_backend();
	return 0;
}

/* A header announcing more payload than any message: the back-end must drop us. */
static int test_raw_close(void)
{
	struct vdgfe *fe = connect_fe(NULL);
	struct vu_msg_header hdr;
	uint8_t junk[8] = { 0 };
	int r;

	CHECK(fe, "connect");
	r = vdgfe_send_raw(fe, VU_REQ_GET_FEATURES, VU_VERSION, 0, NULL, 0, NULL, 0);
	CHECK(r == 0, "send");
	r = vdgfe_recv_raw(fe, &hdr, junk, sizeof(junk), NULL, NULL, -1);
	CHECK(r == 8 && hdr.flags == 0x5 && hdr.request == VU_REQ_GET_FEATURES, "reply %d", r);
	/* Truncated message then close of our write side. */
	r = vdgfe_send_raw(fe, VU_REQ_SET_FEATURES, VU_VERSION, 8, junk, 3, NULL, 0);
	CHECK(r == 0, "send truncated");
	vdgfe_shutdown_write(fe);
	r = vdgfe_wait_closed(fe, 3000);
	CHECK(r == 0, "back-end did not close: %s", strerror(-r));
	r = vdgfe_recv_raw(fe, &hdr, junk, sizeof(junk), NULL, NULL, 100);
	CHECK(r == VDGFE_ERR_CLOSED, "recv after close: %d", r);
	vdgfe_destroy(fe);
	reap_backend();
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} tests[] = {
		{ "negotiate", test_negotiate },
		{ "display_info", test_display_info },
		{ "fences", test_fences },
		{ "cursor", test_cursor },
		{ "errors", test_errors },
		{ "raw_close", test_raw_close },
	};
	char dir[] = "/tmp/vdgfe-ref-XXXXXX";

	if (argc > 1) {
		backend = argv[1];
	}
	if (access(backend, X_OK) != 0) {
		printf("SKIP: %s not found\n", backend);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/gpu.sock", dir);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = failures;

		tests[i].fn();
		if (backend_pid > 0) {
			kill(backend_pid, SIGKILL);
			waitpid(backend_pid, NULL, 0);
			backend_pid = -1;
		}
		printf("%s %s\n", failures == before ? "ok" : "not ok", tests[i].name);
	}
	unlink(sock_path);
	rmdir(dir);
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
