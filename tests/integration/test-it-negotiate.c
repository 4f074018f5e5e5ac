/* SPDX-License-Identifier: MIT */
/*
 * Negotiation as QEMU does it, against the real daemon: the features and
 * protocol features offered in 2d mode, queue count, config space, reply
 * and ack framing, and a start with every variant the test front-end
 * supports (event idx, indirect, split memory with a hole, ADD_MEM_REG,
 * STATUS, ack on everything), each drawing one frame and stopping.
 *
 * Usage: test-it-negotiate path/to/vhost-device-gpu
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "itest.h"

#define GPU_F_VIRGL 0
#define GPU_F_EDID 1
#define GPU_F_RESOURCE_UUID 2

#define OFFERED_PROTOCOL                                                                           \
	(VU_BIT(VU_PROTOCOL_F_MQ) | VU_BIT(VU_PROTOCOL_F_REPLY_ACK) |                              \
	        VU_BIT(VU_PROTOCOL_F_CONFIG) | VU_BIT(VU_PROTOCOL_F_RESET_DEVICE) |                \
	        VU_BIT(VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS) | VU_BIT(VU_PROTOCOL_F_STATUS))

static struct vdgfe *connect_only(void)
{
	struct vdgfe_config cfg;

	itest_config(&cfg);
	itest_fe = vdgfe_create(&cfg);
	assert_non_null(itest_fe);
	return itest_fe;
}

static void test_features_offered(void **state)
{
	struct vdgfe *fe = connect_only();
	uint64_t f = 0;

	(void)state;
	assert_int_equal(vdgfe_negotiate(fe), 0);
	f = fe->backend_features;
	assert_true(vu_has_bit(f, GPU_F_EDID));
	assert_true(vu_has_bit(f, GPU_F_RESOURCE_UUID));
	assert_false(vu_has_bit(f, GPU_F_VIRGL)); /* 2d mode */
	assert_true(vu_has_bit(f, VIRTIO_F_VERSION_1_BIT));
	assert_true(vu_has_bit(f, VIRTIO_RING_F_INDIRECT_DESC_BIT));
	assert_true(vu_has_bit(f, VIRTIO_RING_F_EVENT_IDX_BIT));
	assert_true(vu_has_bit(f, VHOST_USER_F_PROTOCOL_FEATURES_BIT));
	assert_int_equal(fe->backend_protocol, OFFERED_PROTOCOL);
	assert_int_equal(fe->queue_num, 2);
	/* negotiation did not ask for mem slots: the default wish list */
	assert_false(vu_has_bit(fe->protocol, VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS));
}

static void test_reply_framing(void **state)
{
	struct vdgfe *fe = connect_only();
	struct vu_msg_header hdr;
	uint64_t v = 0;
	int fds[VU_MAX_FDS];
	unsigned int nfds = 0;
	int r;

	(void)state;
	/* GET_FEATURES: reply flags 0x5 (version 1 | REPLY), size 8 */
	assert_int_equal(
	        vdgfe_send_raw(fe, VU_REQ_GET_FEATURES, VU_VERSION, 0, NULL, 0, NULL, 0), 0);
	r = vdgfe_recv_raw(fe, &hdr, &v, sizeof(v), fds, &nfds, ITEST_TIMEOUT_MS);
	assert_int_equal(r, 8);
	assert_int_equal(hdr.request, VU_REQ_GET_FEATURES);
	assert_int_equal(hdr.flags, 0x5);
	assert_int_equal(nfds, 0);
	assert_int_equal(vdgfe_negotiate(fe), 0);
	assert_true(vdgfe_reply_ack(fe));

	/* REPLY_ACK: a good message is acked 0 with flags 0x5 and size 8 */
	uint64_t owner_payload = 0;

	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_SET_OWNER, VU_VERSION | VU_FLAG_NEED_REPLY, 0,
	                         &owner_payload, 0, NULL, 0),
	        0);
	r = vdgfe_recv_raw(fe, &hdr, &v, sizeof(v), fds, &nfds, ITEST_TIMEOUT_MS);
	assert_int_equal(r, 8);
	assert_int_equal(hdr.request, VU_REQ_SET_OWNER);
	assert_int_equal(hdr.flags, 0x5);
	assert_int_equal(v, 0);
	/* a refused message is acked non-zero: ring size 3 is not a power of two */
	assert_int_equal(vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, 0, 3, true), -EIO);
	/* enable must be 0 or 1 */
	assert_int_equal(vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_ENABLE, 0, 2, true), -EIO);
	/* a request the daemon does not implement is acked with failure, not dropped */
	assert_int_equal(
	        vdgfe_send(fe, VU_REQ_SET_VRING_ENDIAN, &owner_payload, 8, NULL, 0, true), -EIO);
	/* the connection still works */
	assert_int_equal(vdgfe_get_u64(fe, VU_REQ_GET_QUEUE_NUM, &v), 0);
	assert_int_equal(v, 2);
}

static void test_config_space(void **state)
{
	struct vdgfe *fe = connect_only();
	struct virtio_gpu_config cfg;
	struct vu_config req = {.offset = 0, .size = 16, .flags = 0};
	struct vu_config rep;
	struct vu_msg_header hdr;
	int fds[VU_MAX_FDS];
	unsigned int nfds = 0;
	int r;

	(void)state;
	assert_int_equal(vdgfe_negotiate(fe), 0);
	assert_int_equal(vdgfe_get_config(fe, 0, &cfg, sizeof(cfg)), 0);
	assert_int_equal(sizeof(cfg), 16);
	assert_int_equal(le32toh(cfg.num_capsets), 0);
	assert_int_equal(le32toh(cfg.events_read), 0);
	assert_true(le32toh(cfg.num_scanouts) >= 1 && le32toh(cfg.num_scanouts) <= 16);
	/* raw: the reply is 12 + 16 bytes, flags 0x5 */
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_GET_CONFIG, VU_VERSION, VU_CONFIG_HDR_SIZE + 16,
	                         &req, VU_CONFIG_HDR_SIZE + 16, NULL, 0),
	        0);
	r = vdgfe_recv_raw(fe, &hdr, &rep, sizeof(rep), fds, &nfds, ITEST_TIMEOUT_MS);
	assert_int_equal(r, VU_CONFIG_HDR_SIZE + 16);
	assert_int_equal(hdr.flags, 0x5);
	assert_int_equal(rep.size, 16);
	/* a read past the 16-byte space: an empty reply, the session goes on */
	req.offset = 8;
	req.size = 16;
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_GET_CONFIG, VU_VERSION, VU_CONFIG_HDR_SIZE + 16,
	                         &req, VU_CONFIG_HDR_SIZE + 16, NULL, 0),
	        0);
	r = vdgfe_recv_raw(fe, &hdr, &rep, sizeof(rep), fds, &nfds, ITEST_TIMEOUT_MS);
	assert_int_equal(r, 0);
	assert_int_equal(vdgfe_get_config(fe, 12, &cfg, 4), 0);
}

/* ---- start variants ---- */

struct variant {
	const char *name;
	bool no_event_idx, no_indirect, split, use_mem_slots, use_status, ack_all, indirect_cmds;
	uint32_t split_chunks;
};

static void draw_one_frame(struct vdgfe *fe, uint32_t id, uint32_t color)
{
	uint32_t w = 64, h = 48;
	uint64_t gpa = itest_resource(fe, id, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h);
	bool ok;

	for (uint32_t i = 0; i < w * h; i++) {
		vdgfe_mem_write(fe, gpa + i * 4ull, &color, 4);
	}
	assert_int_equal(
	        vdgfe_gpu_transfer_to_host_2d(fe, id, 0, 0, w, h, 0), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, id, 0, 0, w, h), VIRTIO_GPU_RESP_OK_NODATA);
	uint64_t updates = fe->sink.counts[VUGPU_UPDATE];

	assert_int_equal(vdgfe_gpu_resource_flush(fe, id, 0, 0, w, h), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, updates + 1), 0);
	assert_int_equal(
	        vdgfe_sink_pixel(&fe->sink, 0, w - 1, h - 1, &ok) & 0xffffff, color & 0xffffff);
	assert_true(ok);
}

static void run_variant(const struct variant *v)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint32_t bases[2];
	uint64_t st = 0;

	itest_config(&cfg);
	if (v->no_event_idx || v->no_indirect) {
		cfg.features_set = true;
		cfg.features = VDGFE_DEFAULT_FEATURES | VU_BIT(GPU_F_RESOURCE_UUID);
		if (v->no_event_idx) {
			cfg.features &= ~VU_BIT(VIRTIO_RING_F_EVENT_IDX_BIT);
		}
		if (v->no_indirect) {
			cfg.features &= ~VU_BIT(VIRTIO_RING_F_INDIRECT_DESC_BIT);
		}
	}
	if (v->split) {
		cfg.split_mem = true;
		cfg.region_gap = UINT64_C(16) << 20;
		cfg.gpa_base = UINT64_C(1) << 20;
	}
	cfg.use_mem_slots = v->use_mem_slots;
	cfg.use_status = v->use_status;
	cfg.ack_all = v->ack_all;
	print_message("variant: %s\n", v->name);
	fe = itest_fe_start(&cfg);
	assert_int_equal(fe->vqs[0].event_idx, !v->no_event_idx);
	assert_int_equal(fe->vqs[0].indirect_ok, !v->no_indirect);
	assert_int_equal(
	        vu_has_bit(fe->protocol, VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS), v->use_mem_slots);
	if (v->use_mem_slots) {
		assert_true(fe->max_mem_slots >= 2);
	}
	if (v->split) {
		assert_int_equal(fe->nregions, 2);
	}
	if (v->use_status) {
		assert_int_equal(vdgfe_get_u64(fe, VU_REQ_GET_STATUS, &st), 0);
		assert_int_equal(st, 0xf); /* ACK | DRIVER | FEATURES_OK | DRIVER_OK */
	}
	vdgfe_gpu(fe)->defaults.indirect = v->indirect_cmds;
	vdgfe_gpu(fe)->defaults.req_split = v->split_chunks;
	vdgfe_gpu(fe)->defaults.resp_split = v->split_chunks;
	draw_one_frame(fe, 1, 0x00123456);
	/* a second frame after a stop/start keeps the ring positions */
	assert_int_equal(vdgfe_stop(fe, false, bases), 0);
	assert_int_equal(bases[0], 5); /* create, attach, transfer, scanout, flush */
	assert_int_equal(bases[1], 0);
	if (v->use_status) {
		assert_int_equal(vdgfe_get_u64(fe, VU_REQ_GET_STATUS, &st), 0);
		assert_int_equal(st, 0);
	}
	vdgfe_sink_reset_state(&fe->sink);
	assert_int_equal(vdgfe_start(fe), 0);
	draw_one_frame(fe, 2, 0x00abcdef);
	assert_int_equal(vdgfe_stop(fe, true, bases), 0);
	assert_int_equal(bases[0], 10);
	assert_int_equal(fe->sink.violations, 0);
	itest_fe_destroy();
}

static const struct variant variants[] = {
        {.name = "defaults (event idx, indirect)"},
        {.name = "indirect command chains", .indirect_cmds = true},
        {.name = "chains split in 8-byte descriptors", .split_chunks = 8},
        {.name = "no EVENT_IDX", .no_event_idx = true},
        {.name = "no INDIRECT_DESC", .no_indirect = true},
        {.name = "no EVENT_IDX, no INDIRECT_DESC", .no_event_idx = true, .no_indirect = true},
        {.name = "split memory with a 16 MiB hole", .split = true},
        {.name = "ADD_MEM_REG", .use_mem_slots = true},
        {.name = "ADD_MEM_REG, split memory", .use_mem_slots = true, .split = true},
        {.name = "STATUS", .use_status = true},
        {.name = "NEED_REPLY on everything", .ack_all = true},
        {.name = "all at once",
                .split = true,
                .use_mem_slots = true,
                .use_status = true,
                .ack_all = true,
                .indirect_cmds = true,
                .split_chunks = 12},
};

static void test_start_variants(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		run_variant(&variants[i]);
	}
}

static void test_unknown_transport_bits(void **state)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	(void)state;
	/* the ACK bits QEMU sends: the daemon accepts bits it did not offer (RING_RESET) */
	itest_config(&cfg);
	cfg.features_set = true;
	cfg.features = VDGFE_DEFAULT_FEATURES | VU_BIT(VIRTIO_F_RING_RESET_BIT);
	fe = itest_fe_start(&cfg);
	assert_false(vu_has_bit(fe->acked_features, VIRTIO_F_RING_RESET_BIT));
	draw_one_frame(fe, 5, 0x00ff0000);
	assert_int_equal(vdgfe_set_u64(fe, VU_REQ_SET_FEATURES,
	                         fe->acked_features | VU_BIT(VIRTIO_F_RING_RESET_BIT), true),
	        0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_features_offered, itest_teardown),
	        cmocka_unit_test_teardown(test_reply_framing, itest_teardown),
	        cmocka_unit_test_teardown(test_config_space, itest_teardown),
	        cmocka_unit_test_teardown(test_start_variants, itest_teardown),
	        cmocka_unit_test_teardown(test_unknown_transport_bits, itest_teardown),
	};

	itest_init(argc, argv);
	return itest_exit(cmocka_run_group_tests(tests, itest_group_setup, itest_group_teardown));
}
