/* SPDX-License-Identifier: MIT */
/*
 * The negotiation basics measured on QEMU's own back-end and on ours, side
 * by side, where the protocol specifies the answer: GET_QUEUE_NUM 2, reply
 * flags 0x5, a 16-byte config space (GET_CONFIG reply 12 + 16 bytes), acks
 * of 0 for good messages with NEED_REPLY, and a started device answering
 * GET_DISPLAY_INFO. QEMU's back-end serves one connection and exits, so it
 * is started once per probe.
 *
 * Usage: test-it-qemu-compare path/to/vhost-device-gpu [qemu-backend]
 * Exits 77 (skipped) when the QEMU back-end is not installed.
 */
#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

static const char *qemu_bin = "/usr/lib/qemu/vhost-user-gpu";

struct probe {
	uint64_t features, protocol, queue_num;
	uint32_t features_flags, features_size;
	uint32_t config_flags, config_size, config_region;
	uint32_t ack_flags, ack_size;
	uint64_t ack;
	int display_info;
	uint32_t mode_w;
};

/* One connection's worth of measurements on socket path. */
static void probe(const char *path, struct probe *p)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	struct vu_msg_header hdr;
	struct vu_config creq = {.offset = 0, .size = 16}, crep;
	struct virtio_gpu_resp_display_info info;
	int fds[VU_MAX_FDS];
	unsigned int nfds = 0;
	uint64_t v = 0;
	int r;

	memset(p, 0, sizeof(*p));
	itest_config(&cfg);
	cfg.socket_path = path;
	cfg.sink.protocol_features = 0; /* QEMU 7.2's display side */
	fe = itest_fe = vdgfe_create(&cfg);
	assert_non_null(fe);
	assert_int_equal(
	        vdgfe_send_raw(fe, VU_REQ_GET_FEATURES, VU_VERSION, 0, NULL, 0, NULL, 0), 0);
	r = vdgfe_recv_raw(fe, &hdr, &p->features, 8, fds, &nfds, ITEST_TIMEOUT_MS);
	assert_true(r >= 0);
	p->features_flags = hdr.flags;
	p->features_size = hdr.size;
	assert_int_equal(vdgfe_negotiate(fe), 0);
	p->protocol = fe->backend_protocol;
	p->queue_num = fe->queue_num;
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_GET_CONFIG, VU_VERSION, VU_CONFIG_HDR_SIZE + 16,
	                         &creq, VU_CONFIG_HDR_SIZE + 16, NULL, 0),
	        0);
	r = vdgfe_recv_raw(fe, &hdr, &crep, sizeof(crep), fds, &nfds, ITEST_TIMEOUT_MS);
	assert_true(r >= 0);
	p->config_flags = hdr.flags;
	p->config_size = hdr.size;
	p->config_region = crep.size;
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_SET_OWNER, VU_VERSION | VU_FLAG_NEED_REPLY, 0,
	                         NULL, 0, NULL, 0),
	        0);
	r = vdgfe_recv_raw(fe, &hdr, &v, sizeof(v), fds, &nfds, ITEST_TIMEOUT_MS);
	assert_true(r >= 0);
	p->ack_flags = hdr.flags;
	p->ack_size = hdr.size;
	p->ack = v;
	assert_int_equal(vdgfe_start(fe), 0);
	p->display_info = vdgfe_gpu_get_display_info(fe, &info);
	p->mode_w = le32toh(info.pmodes[0].r.width);
	assert_int_equal(vdgfe_stop(fe, true, NULL), 0);
	itest_fe_destroy();
}

static void check_common(const struct probe *p, const char *who)
{
	print_message("%s: features 0x%llx protocol 0x%llx queues %llu\n", who,
	        (unsigned long long)p->features, (unsigned long long)p->protocol,
	        (unsigned long long)p->queue_num);
	assert_int_equal(p->queue_num, 2);
	assert_int_equal(p->features_flags, 0x5);
	assert_int_equal(p->features_size, 8);
	assert_true(vu_has_bit(p->features, VIRTIO_F_VERSION_1_BIT));
	assert_true(vu_has_bit(p->features, VHOST_USER_F_PROTOCOL_FEATURES_BIT));
	assert_true(vu_has_bit(p->protocol, VU_PROTOCOL_F_MQ));
	assert_true(vu_has_bit(p->protocol, VU_PROTOCOL_F_REPLY_ACK));
	assert_true(vu_has_bit(p->protocol, VU_PROTOCOL_F_CONFIG));
	assert_int_equal(p->config_flags, 0x5);
	assert_int_equal(p->config_size, VU_CONFIG_HDR_SIZE + 16);
	assert_int_equal(p->config_region, 16);
	assert_int_equal(p->ack_flags, 0x5);
	assert_int_equal(p->ack_size, 8);
	assert_int_equal(p->ack, 0);
	assert_int_equal(p->display_info, VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(p->mode_w, 1280);
}

static pid_t qemu_pid = -1;
static char qemu_dir[64], qemu_sock[108];

static void start_qemu(void)
{
	snprintf(qemu_dir, sizeof(qemu_dir), "/tmp/vdg-itq.XXXXXX");
	assert_non_null(mkdtemp(qemu_dir));
	snprintf(qemu_sock, sizeof(qemu_sock), "%s/s", qemu_dir);
	qemu_pid = fork();
	assert_true(qemu_pid >= 0);
	if (qemu_pid == 0) {
		char arg[160];

		snprintf(arg, sizeof(arg), "--socket-path=%s", qemu_sock);
		execl(qemu_bin, qemu_bin, arg, (char *)NULL);
		_exit(127);
	}
}

/* QEMU's back-end exits after its one connection: status 0 within 5 s. */
static int reap_qemu(void)
{
	int status = -1;

	for (int i = 0; i < 500 && qemu_pid > 0; i++) {
		if (waitpid(qemu_pid, &status, WNOHANG) == qemu_pid) {
			qemu_pid = -1;
			break;
		}
		usleep(10000);
	}
	if (qemu_pid > 0) {
		kill(qemu_pid, SIGKILL);
		waitpid(qemu_pid, &status, 0);
		qemu_pid = -1;
		status = -1;
	}
	unlink(qemu_sock);
	rmdir(qemu_dir);
	return status;
}

static int teardown_qemu(void **state)
{
	itest_fe_destroy();
	if (qemu_pid > 0) {
		reap_qemu();
	}
	return itest_teardown(state);
}

static void test_compare(void **state)
{
	struct probe ours, qemu;

	(void)state;
	probe(itest_d.sock, &ours);
	check_common(&ours, "vhost-device-gpu");
	start_qemu();
	probe(qemu_sock, &qemu);
	assert_int_equal(reap_qemu(), 0);
	check_common(&qemu, "qemu vhost-user-gpu");
	/* what both must agree on */
	assert_int_equal(ours.queue_num, qemu.queue_num);
	assert_int_equal(ours.features_flags, qemu.features_flags);
	assert_int_equal(ours.config_size, qemu.config_size);
	assert_int_equal(ours.ack, qemu.ack);
	/* the virtio-gpu device bits: EDID both; VIRGL neither in 2d / without --virgl */
	assert_int_equal(vu_has_bit(ours.features, 0), vu_has_bit(qemu.features, 0));
}

static void test_compare_status_ack(void **state)
{
	/* a ring message with NEED_REPLY before the ring is set up: both ack 0, flags 0x5 */
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	const char *paths[2];
	uint64_t acks[2];

	(void)state;
	start_qemu();
	paths[0] = itest_d.sock;
	paths[1] = qemu_sock;
	for (unsigned int i = 0; i < 2; i++) {
		struct vu_msg_header hdr;
		struct vu_vring_state st = {.index = 0, .num = 64};
		int fds[VU_MAX_FDS];
		unsigned int nfds = 0;

		itest_config(&cfg);
		cfg.socket_path = paths[i];
		fe = itest_fe = vdgfe_create(&cfg);
		assert_non_null(fe);
		assert_int_equal(vdgfe_negotiate(fe), 0);
		assert_int_equal(
		        vdgfe_send_raw(fe, VU_REQ_SET_VRING_NUM, VU_VERSION | VU_FLAG_NEED_REPLY,
		                sizeof(st), &st, sizeof(st), NULL, 0),
		        0);
		assert_true(
		        vdgfe_recv_raw(fe, &hdr, &acks[i], 8, fds, &nfds, ITEST_TIMEOUT_MS) == 8);
		assert_int_equal(hdr.flags, 0x5);
		assert_int_equal(hdr.request, VU_REQ_SET_VRING_NUM);
		itest_fe_destroy();
	}
	assert_int_equal(reap_qemu(), 0);
	assert_int_equal(acks[0], 0);
	assert_int_equal(acks[1], 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_compare, teardown_qemu),
	        cmocka_unit_test_teardown(test_compare_status_ack, teardown_qemu),
	};

	itest_init(argc, argv);
	if (argc > 2) {
		qemu_bin = argv[2];
	}
	if (access(qemu_bin, X_OK) != 0) {
		printf("SKIP: QEMU's back-end %s is not installed\n", qemu_bin);
		return 77;
	}
	return itest_exit(cmocka_run_group_tests(tests, itest_group_setup, itest_group_teardown));
}
