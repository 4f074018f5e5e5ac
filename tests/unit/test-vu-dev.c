/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user dispatcher, driven over a real socketpair: every request at
 * its valid size, one byte short, one byte long, with a wrong fd count and
 * with an out-of-range ring index. Each must get its reply, a failure ack,
 * or a dropped connection; never a crash. Runs under ASan/UBSan in CI.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fd.h"
#include "guest-mem.h"
#include "log.h"
#include "vu-dev.h"

#define CONFIG_SIZE 16

struct fake_device {
	unsigned int kicks[VU_MAX_QUEUES];
	unsigned int stops[VU_MAX_QUEUES];
	unsigned int resets;
	unsigned int sockets;
	uint64_t features;
	uint8_t config[VU_CONFIG_MAX_SIZE];
};

static uint64_t fake_get_features(void *opaque)
{
	return UINT64_C(1) << 1; /* a device bit, like EDID */
}

static void fake_set_features(void *opaque, uint64_t features)
{
	((struct fake_device *)opaque)->features = features;
}

static void fake_get_config(void *opaque, uint8_t *buf, uint32_t offset, uint32_t len)
{
	memcpy(buf, ((struct fake_device *)opaque)->config + offset, len);
}

static void fake_set_config(void *opaque, const uint8_t *buf, uint32_t offset, uint32_t len)
{
	memcpy(((struct fake_device *)opaque)->config + offset, buf, len);
}

static void fake_queue_kick(void *opaque, unsigned int qidx)
{
	((struct fake_device *)opaque)->kicks[qidx]++;
}

static void fake_queue_stop(void *opaque, unsigned int qidx)
{
	((struct fake_device *)opaque)->stops[qidx]++;
}

static int fake_set_device_socket(void *opaque, int fd)
{
	((struct fake_device *)opaque)->sockets++;
	close(fd);
	return 0;
}

static void fake_reset(void *opaque)
{
	((struct fake_device *)opaque)->resets++;
}

static const struct vu_device_ops fake_ops = {
	.get_features = fake_get_features,
	.set_features = fake_set_features,
	.get_config = fake_get_config,
	.set_config = fake_set_config,
	.queue_kick = fake_queue_kick,
	.queue_stop = fake_queue_stop,
	.set_device_socket = fake_set_device_socket,
	.reset = fake_reset,
};

struct fixture {
	struct event_loop *loop;
	struct vu_dev *dev;
	struct fake_device fake;
	int peer; /* the frontend's end */
	int disconnects;
	struct test_guest_mem g;
};

static void on_disconnect(void *data)
{
	((struct fixture *)data)->disconnects++;
}

/* A device of num_queues queues and config_size config bytes, attached to a socketpair. */
static int setup_device(void **state, unsigned int num_queues, uint32_t config_size)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2];

	log_set_level(LOG_LEVEL_OFF);
	f->loop = event_loop_create();
	struct vu_dev_config cfg = {
		.num_queues = num_queues,
		.config_size = config_size,
		.ops = &fake_ops,
		.opaque = &f->fake,
		.on_disconnect = on_disconnect,
		.disconnect_data = f,
	};
	f->dev = vu_dev_create(f->loop, &cfg);
	assert_non_null(f->dev);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vu_dev_attach(f->dev, sv[0]), 0);
	f->peer = sv[1];
	assert_int_equal(test_guest_mem_create(&f->g, 1 << 20, 0x100000), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_device(state, 2, CONFIG_SIZE);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vu_dev_destroy(f->dev);
	event_loop_destroy(f->loop);
	close(f->peer);
	test_guest_mem_destroy(&f->g);
	free(f);
	return 0;
}

static void send_msg(struct fixture *f, uint32_t req, uint32_t flags, const void *payload,
	uint32_t size, const int *fds, size_t nfds)
{
	struct vu_msg_header hdr = { req, flags, size };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)payload, size } };

	assert_int_equal(fd_sendv_all(f->peer, iov, size ? 2 : 1, fds, nfds, 1000), 0);
}

enum outcome {
	GOT_REPLY,
	NO_REPLY,
	DISCONNECTED,
};

/* Runs the loop until a reply arrives, the daemon hangs up, or nothing more happens. */
static enum outcome wait_reply(struct fixture *f, struct vu_msg_header *hdr, void *payload,
	size_t max)
{
	for (int i = 0; i < 50; i++) {
		struct pollfd p = { .fd = f->peer, .events = POLLIN };

		event_loop_dispatch(f->loop, 0);
		if (poll(&p, 1, i < 5 ? 0 : 2) == 1) {
			ssize_t n = recv(f->peer, hdr, sizeof(*hdr), MSG_DONTWAIT);

			/* closing with our data unread makes the kernel report a reset */
			if (n == 0 || (n < 0 && errno == ECONNRESET)) {
				return DISCONNECTED;
			}
			assert_int_equal(n, sizeof(*hdr));
			assert_true(hdr->size <= max);
			if (hdr->size) {
				assert_int_equal(recv(f->peer, payload, hdr->size, MSG_WAITALL),
					hdr->size);
			}
			return GOT_REPLY;
		}
	}
	return f->disconnects ? DISCONNECTED : NO_REPLY;
}

static uint64_t request_u64(struct fixture *f, uint32_t req)
{
	struct vu_msg_header hdr;
	uint64_t v = 0;

	send_msg(f, req, VU_VERSION, NULL, 0, NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, &v, sizeof(v)), GOT_REPLY);
	assert_int_equal(hdr.request, req);
	assert_int_equal(hdr.flags, VU_VERSION | VU_FLAG_REPLY);
	assert_int_equal(hdr.size, 8);
	return v;
}

static void negotiate(struct fixture *f)
{
	uint64_t features = request_u64(f, VU_REQ_GET_FEATURES);
	uint64_t proto = request_u64(f, VU_REQ_GET_PROTOCOL_FEATURES);
	struct vu_msg_header hdr;
	uint64_t ack;

	assert_true(vu_has_bit(features, VHOST_USER_F_PROTOCOL_FEATURES_BIT));
	assert_true(vu_has_bit(proto, VU_PROTOCOL_F_REPLY_ACK));
	assert_true(vu_has_bit(proto, VU_PROTOCOL_F_CONFIG));
	assert_true(vu_has_bit(proto, VU_PROTOCOL_F_MQ));
	send_msg(f, VU_REQ_SET_PROTOCOL_FEATURES, VU_VERSION | VU_FLAG_NEED_REPLY, &proto, 8, NULL,
		0);
	assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
	assert_int_equal(ack, 0);
}

static void test_table_covers_every_id(void **state)
{
	for (uint32_t id = 1; id < VU_REQ_MAX; id++) {
		assert_non_null(vu_request_name(id));
	}
	assert_null(vu_request_name(0));
	assert_null(vu_request_name(VU_REQ_MAX));
	assert_null(vu_request_name(UINT32_MAX));
}

static void test_negotiation(void **state)
{
	struct fixture *f = *state;

	negotiate(f);
	assert_int_equal(request_u64(f, VU_REQ_GET_QUEUE_NUM), 2);
	assert_int_equal(request_u64(f, VU_REQ_GET_MAX_MEM_SLOTS), VU_MAX_MEM_SLOTS);
	uint64_t features = request_u64(f, VU_REQ_GET_FEATURES);
	assert_true(vu_has_bit(features, 1));
	assert_true(vu_has_bit(features, VIRTIO_F_VERSION_1_BIT));
	assert_true(vu_has_bit(features, VIRTIO_RING_F_EVENT_IDX_BIT));
	assert_true(vu_has_bit(features, VIRTIO_RING_F_INDIRECT_DESC_BIT));
}

/*
 * One case per request: a payload and fds that are valid, the expected
 * outcome when valid, and whether its reply is its own (then a malformed
 * message ends the session) or an ack.
 */
struct req_case {
	uint32_t req;
	uint32_t size;
	unsigned int nfds;
	bool own_reply;
	bool index; /* carries a ring index */
	bool supported;
};

static const struct req_case cases[] = {
	{ VU_REQ_GET_FEATURES, 0, 0, true, false, true },
	{ VU_REQ_SET_FEATURES, 8, 0, false, false, true },
	{ VU_REQ_SET_OWNER, 0, 0, false, false, true },
	{ VU_REQ_RESET_OWNER, 0, 0, false, false, true },
	{ VU_REQ_SET_MEM_TABLE, 8 + 32, 1, false, false, true },
	{ VU_REQ_SET_VRING_NUM, 8, 0, false, true, true },
	{ VU_REQ_SET_VRING_ADDR, 40, 0, false, true, true },
	{ VU_REQ_SET_VRING_BASE, 8, 0, false, true, true },
	{ VU_REQ_GET_VRING_BASE, 8, 0, true, true, true },
	{ VU_REQ_SET_VRING_KICK, 8, 1, false, true, true },
	{ VU_REQ_SET_VRING_CALL, 8, 1, false, true, true },
	{ VU_REQ_SET_VRING_ERR, 8, 1, false, true, true },
	{ VU_REQ_GET_PROTOCOL_FEATURES, 0, 0, true, false, true },
	{ VU_REQ_SET_PROTOCOL_FEATURES, 8, 0, false, false, true },
	{ VU_REQ_GET_QUEUE_NUM, 0, 0, true, false, true },
	{ VU_REQ_SET_VRING_ENABLE, 8, 0, false, true, true },
	{ VU_REQ_GET_CONFIG, 12 + 16, 0, true, false, true },
	{ VU_REQ_SET_CONFIG, 12 + 4, 0, false, false, true },
	{ VU_REQ_GPU_SET_SOCKET, 0, 1, false, false, true },
	{ VU_REQ_RESET_DEVICE, 0, 0, false, false, true },
	{ VU_REQ_GET_MAX_MEM_SLOTS, 0, 0, true, false, true },
	{ VU_REQ_ADD_MEM_REG, 40, 1, false, false, true },
	{ VU_REQ_REM_MEM_REG, 40, 0, false, false, true },
	{ VU_REQ_SET_STATUS, 8, 0, false, false, true },
	{ VU_REQ_GET_STATUS, 0, 0, true, false, true },
};

/* Builds a valid payload and fds for a case (fds must be closed by the caller). */
static void build(struct fixture *f, const struct req_case *c, uint8_t *payload, int *fds)
{
	memset(payload, 0, 512);
	for (unsigned int i = 0; i < c->nfds; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
	}
	switch (c->req) {
	case VU_REQ_SET_MEM_TABLE: {
		struct vu_mem_table *t = (struct vu_mem_table *)payload;
		t->nregions = 1;
		t->regions[0] = test_guest_mem_region(&f->g);
		close(fds[0]);
		fds[0] = dup(f->g.fd);
		break;
	}
	case VU_REQ_ADD_MEM_REG: {
		struct vu_single_mem_region *r = (struct vu_single_mem_region *)payload;
		r->region = test_guest_mem_region(&f->g);
		close(fds[0]);
		fds[0] = dup(f->g.fd);
		break;
	}
	case VU_REQ_REM_MEM_REG: {
		struct vu_single_mem_region *r = (struct vu_single_mem_region *)payload;
		r->region = test_guest_mem_region(&f->g);
		break;
	}
	case VU_REQ_SET_PROTOCOL_FEATURES:
		/* keep what negotiate() agreed, REPLY_ACK included */
		*(uint64_t *)payload = vu_dev_protocol_features(f->dev);
		break;
	case VU_REQ_SET_VRING_NUM:
		((struct vu_vring_state *)payload)->num = 16;
		break;
	case VU_REQ_SET_VRING_ENABLE:
		((struct vu_vring_state *)payload)->num = 1;
		break;
	case VU_REQ_GET_CONFIG:
		((struct vu_config *)payload)->size = 16;
		break;
	case VU_REQ_SET_CONFIG:
		((struct vu_config *)payload)->offset = 4;
		((struct vu_config *)payload)->size = 4;
		break;
	case VU_REQ_SET_STATUS:
		payload[0] = 0xf;
		break;
	}
}

static void close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		close(fds[i]);
	}
}

/* Sends a (maybe malformed) case; returns the outcome and the ack value if any. */
static enum outcome run_case(struct fixture *f, const struct req_case *c, uint32_t size,
	unsigned int nfds, uint8_t *payload, uint64_t *ack)
{
	int fds[VU_MAX_FDS];
	struct vu_msg_header hdr;
	uint8_t reply[VU_MAX_PAYLOAD];
	enum outcome o;

	for (unsigned int i = c->nfds; i < nfds; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
	}
	build(f, c, payload, fds);
	send_msg(f, c->req, VU_VERSION | VU_FLAG_NEED_REPLY, payload, size, fds,
		nfds < c->nfds ? nfds : nfds);
	close_fds(fds, nfds > c->nfds ? nfds : c->nfds);
	o = wait_reply(f, &hdr, reply, sizeof(reply));
	if (o == GOT_REPLY) {
		assert_int_equal(hdr.request, c->req);
		assert_int_equal(hdr.flags, VU_VERSION | VU_FLAG_REPLY);
		if (hdr.size == 8) {
			memcpy(ack, reply, 8);
		} else {
			*ack = 0;
		}
	}
	return o;
}

static void test_each_request_valid(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct req_case *c = &cases[i];
		struct fixture *f;
		uint8_t payload[512];
		uint64_t ack = 99;

		setup((void **)&f);
		negotiate(f);
		print_message("valid %s\n", vu_request_name(c->req));
		assert_int_equal(run_case(f, c, c->size, c->nfds, payload, &ack), GOT_REPLY);
		/*
		 * REM_MEM_REG names a region that may not be there, and KICK needs
		 * a ring set up first (test_mem_table_and_rings covers both paths):
		 * here only the reply's shape is checked for them.
		 */
		if (!c->own_reply && c->req != VU_REQ_REM_MEM_REG && c->req != VU_REQ_SET_VRING_KICK) {
			assert_int_equal(ack, 0);
		}
		/* the session goes on */
		assert_int_equal(request_u64(f, VU_REQ_GET_QUEUE_NUM), 2);
		teardown((void **)&f);
	}
}

/* A malformed message: an ack request gets a failure ack; an own-reply request hangs up. */
static void expect_refused(struct fixture *f, const struct req_case *c, enum outcome o,
	uint64_t ack)
{
	if (c->own_reply) {
		assert_int_equal(o, DISCONNECTED);
		assert_int_equal(f->disconnects, 1);
		assert_true(f->fake.resets >= 1);
	} else {
		assert_int_equal(o, GOT_REPLY);
		assert_int_not_equal(ack, 0);
		assert_int_equal(request_u64(f, VU_REQ_GET_QUEUE_NUM), 2);
	}
}

static void test_each_request_bad_size(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct req_case *c = &cases[i];

		for (int delta = -1; delta <= 1; delta += 2) {
			struct fixture *f;
			uint8_t payload[512];
			uint64_t ack = 0;

			if (delta < 0 && c->size == 0) {
				continue;
			}
			setup((void **)&f);
			negotiate(f);
			print_message("%s size %+d\n", vu_request_name(c->req), delta);
			enum outcome o = run_case(f, c, (uint32_t)((int)c->size + delta), c->nfds,
				payload, &ack);
			expect_refused(f, c, o, ack);
			teardown((void **)&f);
		}
	}
}

static void test_each_request_bad_fds(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct req_case *c = &cases[i];
		unsigned int wrong = c->nfds ? c->nfds - 1 : 1;
		struct fixture *f;
		uint8_t payload[512];
		uint64_t ack = 0;

		/* REM_MEM_REG tolerates one stray fd (QEMU sent one once) */
		if (c->req == VU_REQ_REM_MEM_REG) {
			wrong = 2;
		}
		setup((void **)&f);
		negotiate(f);
		print_message("%s with %u fds\n", vu_request_name(c->req), wrong);
		enum outcome o = run_case(f, c, c->size, wrong, payload, &ack);
		expect_refused(f, c, o, ack);
		teardown((void **)&f);
	}
}

static void test_each_request_bad_index(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct req_case *c = &cases[i];

		if (!c->index) {
			continue;
		}
		for (uint32_t idx = 2; idx != 0; idx = idx == 2 ? 0xff : 0) {
			struct fixture *f;
			uint8_t payload[512];
			uint64_t ack = 0;
			int fds[VU_MAX_FDS];
			struct vu_msg_header hdr;
			uint8_t reply[64];
			enum outcome o;

			setup((void **)&f);
			negotiate(f);
			build(f, c, payload, fds);
			/* the index is the first u32 for both vring state and vring file */
			memcpy(payload, &idx, sizeof(idx));
			send_msg(f, c->req, VU_VERSION | VU_FLAG_NEED_REPLY, payload, c->size, fds,
				c->nfds);
			close_fds(fds, c->nfds);
			o = wait_reply(f, &hdr, reply, sizeof(reply));
			if (o == GOT_REPLY && hdr.size == 8) {
				memcpy(&ack, reply, 8);
			}
			print_message("%s index %u\n", vu_request_name(c->req), idx);
			expect_refused(f, c, o, ack);
			teardown((void **)&f);
		}
	}
}

static void test_unsupported_requests(void **state)
{
	struct fixture *f = *state;
	static const uint32_t ids[] = { VU_REQ_SEND_RARP, VU_REQ_NET_SET_MTU,
		VU_REQ_SET_BACKEND_REQ_FD, VU_REQ_IOTLB_MSG, VU_REQ_SET_VRING_ENDIAN,
		VU_REQ_POSTCOPY_ADVISE, VU_REQ_GET_INFLIGHT_FD, VU_REQ_VRING_KICK,
		VU_REQ_GET_SHARED_OBJECT, VU_REQ_GET_SHMEM_CONFIG, VU_REQ_SET_LOG_BASE,
		VU_REQ_SET_LOG_FD, 45, 1000, UINT32_MAX };

	negotiate(f);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct vu_msg_header hdr;
		uint64_t payload[2] = { 0 }, ack = 0;
		int fd = eventfd(0, EFD_CLOEXEC);

		send_msg(f, ids[i], VU_VERSION | VU_FLAG_NEED_REPLY, payload, 8, &fd, 1);
		close(fd);
		assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
		assert_int_equal(hdr.request, ids[i]);
		assert_int_not_equal(ack, 0);
	}
	/* without NEED_REPLY an unknown request is ignored and the session goes on */
	send_msg(f, 999, VU_VERSION, NULL, 0, NULL, 0);
	assert_int_equal(request_u64(f, VU_REQ_GET_QUEUE_NUM), 2);
	assert_int_equal(f->disconnects, 0);
}

static void test_bad_headers_disconnect(void **state)
{
	static const struct vu_msg_header bad[] = {
		{ VU_REQ_GET_FEATURES, 0x2, 0 },                   /* version 2 */
		{ VU_REQ_GET_FEATURES, VU_VERSION | VU_FLAG_REPLY, 0 }, /* a reply as a request */
		{ VU_REQ_SET_FEATURES, VU_VERSION, VU_MAX_PAYLOAD + 1 }, /* over the size limit */
		{ VU_REQ_SET_FEATURES, VU_VERSION, UINT32_MAX },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fixture *f;
		struct vu_msg_header hdr;
		uint8_t reply[16];

		setup((void **)&f);
		assert_int_equal(send(f->peer, &bad[i], sizeof(bad[i]), 0), sizeof(bad[i]));
		assert_int_equal(wait_reply(f, &hdr, reply, sizeof(reply)), DISCONNECTED);
		assert_int_equal(f->disconnects, 1);
		teardown((void **)&f);
	}
}

static void test_too_many_fds_disconnect(void **state)
{
	struct fixture *f = *state;
	int fds[VU_MAX_FDS + 1];
	struct vu_msg_header hdr;
	uint8_t reply[16];
	uint8_t payload[8 + 32 * 8] = { 0 };

	for (int i = 0; i < VU_MAX_FDS + 1; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
	}
	send_msg(f, VU_REQ_SET_MEM_TABLE, VU_VERSION, payload, sizeof(payload), fds,
		VU_MAX_FDS + 1);
	close_fds((int *)fds, VU_MAX_FDS + 1);
	assert_int_equal(wait_reply(f, &hdr, reply, sizeof(reply)), DISCONNECTED);
}

static void test_partial_message_then_close(void **state)
{
	struct fixture *f = *state;
	struct vu_msg_header h = { VU_REQ_SET_FEATURES, VU_VERSION, 8 };
	struct vu_msg_header hdr;
	uint8_t reply[16];

	/* half a header, then the rest later: the loop must not block meanwhile */
	assert_int_equal(send(f->peer, &h, 6, 0), 6);
	assert_int_equal(wait_reply(f, &hdr, reply, sizeof(reply)), NO_REPLY);
	assert_int_equal(send(f->peer, (uint8_t *)&h + 6, 6, 0), 6);
	assert_int_equal(send(f->peer, "abcd", 4, 0), 4);
	assert_int_equal(wait_reply(f, &hdr, reply, sizeof(reply)), NO_REPLY);
	/* the frontend dies mid-message */
	close(f->peer);
	f->peer = -1;
	for (int i = 0; i < 10; i++) {
		event_loop_dispatch(f->loop, 1);
	}
	assert_int_equal(f->disconnects, 1);
	assert_false(vu_dev_connected(f->dev));
	f->peer = open("/dev/null", O_RDONLY);
}

static void test_mem_table_and_rings(void **state)
{
	struct fixture *f = *state;
	int fd = dup(f->g.fd), kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct vu_msg_header hdr;
	uint64_t ack;
	struct vu_mem_table tbl = { 0 }, *t = &tbl;
	uint8_t *table = (uint8_t *)&tbl;
	struct vu_vring_state num = { 0, 16 };
	struct vu_vring_addr addr = {
		.index = 0,
		.desc_user_addr = (uint64_t)(uintptr_t)f->g.map,
		.avail_user_addr = (uint64_t)(uintptr_t)f->g.map + 0x1000,
		.used_user_addr = (uint64_t)(uintptr_t)f->g.map + 0x2000,
	};
	uint64_t file = 0;
	uint64_t features = VU_BIT(VHOST_USER_F_PROTOCOL_FEATURES_BIT) |
		VU_BIT(VIRTIO_RING_F_EVENT_IDX_BIT);

	negotiate(f);
	t->nregions = 1;
	t->regions[0] = test_guest_mem_region(&f->g);
	send_msg(f, VU_REQ_SET_FEATURES, VU_VERSION, &features, 8, NULL, 0);
	send_msg(f, VU_REQ_SET_MEM_TABLE, VU_VERSION | VU_FLAG_NEED_REPLY, table, 8 + 32, &fd,
		1);
	close(fd);
	assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
	assert_int_equal(ack, 0);
	assert_int_equal(vu_dev_mem(f->dev)->nmaps, 1);
	send_msg(f, VU_REQ_SET_VRING_NUM, VU_VERSION, &num, 8, NULL, 0);
	send_msg(f, VU_REQ_SET_VRING_ADDR, VU_VERSION, &addr, 40, NULL, 0);
	send_msg(f, VU_REQ_SET_VRING_KICK, VU_VERSION | VU_FLAG_NEED_REPLY, &file, 8, &kick, 1);
	assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
	assert_int_equal(ack, 0);
	assert_true(vu_dev_vring(f->dev, 0)->started);
	assert_true(vu_dev_vring(f->dev, 0)->event_idx);
	/* protocol features negotiated: the ring waits for SET_VRING_ENABLE */
	assert_false(vu_dev_vring(f->dev, 0)->enabled);
	struct vu_vring_state enable = { 0, 1 };
	send_msg(f, VU_REQ_SET_VRING_ENABLE, VU_VERSION | VU_FLAG_NEED_REPLY, &enable, 8, NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
	unsigned int kicks = f->fake.kicks[0];
	eventfd_write(kick, 1);
	for (int i = 0; i < 5; i++) {
		event_loop_dispatch(f->loop, 1);
	}
	assert_int_equal(f->fake.kicks[0], kicks + 1);
	/* changing the size of a running ring is refused */
	send_msg(f, VU_REQ_SET_VRING_NUM, VU_VERSION | VU_FLAG_NEED_REPLY, &num, 8, NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
	assert_int_not_equal(ack, 0);
	/* GET_VRING_BASE stops it and reports where it was */
	struct vu_vring_state base = { 0, 0 };
	send_msg(f, VU_REQ_GET_VRING_BASE, VU_VERSION, &base, 8, NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, &base, 8), GOT_REPLY);
	assert_int_equal(base.index, 0);
	assert_false(vu_dev_vring(f->dev, 0)->started);
	assert_int_equal(f->fake.stops[0], 1);
	close(kick);
}

static void test_reconnect_many(void **state)
{
	struct fixture *f = *state;

	/* every session's state is freed (ASan checks the leaks) and the next one works */
	for (int i = 0; i < 100; i++) {
		int sv[2];
		int fd = dup(f->g.fd);
		struct vu_mem_table tbl = { 0 }, *t = &tbl;
		uint8_t *table = (uint8_t *)&tbl;

		negotiate(f);
		t->nregions = 1;
		t->regions[0] = test_guest_mem_region(&f->g);
		send_msg(f, VU_REQ_SET_MEM_TABLE, VU_VERSION, table, 8 + 32, &fd, 1);
		close(fd);
		close(f->peer);
		for (int j = 0; j < 5 && vu_dev_connected(f->dev); j++) {
			event_loop_dispatch(f->loop, 1);
		}
		assert_false(vu_dev_connected(f->dev));
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		assert_int_equal(vu_dev_attach(f->dev, sv[0]), 0);
		f->peer = sv[1];
	}
	assert_int_equal(f->disconnects, 100);
}

/*
 * VU_MAX_QUEUES bounds the ring array: a device of 8 queues exists, 9 and 0
 * do not. With 8 queues, index 7 is served and index 8 (or 255, the top of
 * the KICK/CALL/ERR index byte) refused, per reply rule.
 */
static void test_max_queues(void **state)
{
	const struct vu_dev_config over = { .num_queues = VU_MAX_QUEUES + 1, .config_size = 16,
		.ops = &fake_ops };
	const struct vu_dev_config none = { .num_queues = 0, .config_size = 16, .ops = &fake_ops };
	struct event_loop *loop = event_loop_create();
	struct vu_msg_header hdr;
	struct fixture *f;
	uint64_t ack = 0;

	assert_null(vu_dev_create(loop, &over));
	assert_null(vu_dev_create(loop, &none));
	event_loop_destroy(loop);

	setup_device((void **)&f, VU_MAX_QUEUES, CONFIG_SIZE);
	negotiate(f);
	assert_int_equal(request_u64(f, VU_REQ_GET_QUEUE_NUM), VU_MAX_QUEUES);
	for (uint32_t idx = VU_MAX_QUEUES - 1; idx <= VU_MAX_QUEUES; idx++) {
		struct vu_vring_state st = { idx, 16 };
		uint64_t file = idx | VU_VRING_NOFD_MASK;

		send_msg(f, VU_REQ_SET_VRING_NUM, VU_VERSION | VU_FLAG_NEED_REPLY, &st, 8, NULL, 0);
		assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
		assert_int_equal(ack, idx < VU_MAX_QUEUES ? 0 : 1);
		/* ERR without an fd is valid for an existing ring */
		send_msg(f, VU_REQ_SET_VRING_ERR, VU_VERSION | VU_FLAG_NEED_REPLY, &file, 8, NULL, 0);
		assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
		assert_int_equal(ack, idx < VU_MAX_QUEUES ? 0 : 1);
	}
	assert_non_null(vu_dev_vring(f->dev, VU_MAX_QUEUES - 1));
	assert_null(vu_dev_vring(f->dev, VU_MAX_QUEUES));
	assert_int_equal(vu_dev_vring(f->dev, VU_MAX_QUEUES - 1)->num, 16);
	/* the last ring's base: its own reply; one past: no reply can be shaped, dropped */
	struct vu_vring_state base = { VU_MAX_QUEUES - 1, 0 };

	send_msg(f, VU_REQ_GET_VRING_BASE, VU_VERSION, &base, 8, NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, &base, 8), GOT_REPLY);
	assert_int_equal(base.index, VU_MAX_QUEUES - 1);
	base.index = VU_MAX_QUEUES;
	send_msg(f, VU_REQ_GET_VRING_BASE, VU_VERSION, &base, 8, NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, &base, 8), DISCONNECTED);
	assert_int_equal(f->disconnects, 1);
	teardown((void **)&f);
}

/*
 * VU_CONFIG_MAX_SIZE: a device may have 256 config bytes (not 257), and a
 * GET_CONFIG of all 256 is answered whole; 257 is refused (own reply: the
 * session ends). SET_CONFIG of 256 works; 257 gets a failure ack.
 */
static void test_config_max_size(void **state)
{
	const struct vu_dev_config over = { .num_queues = 2,
		.config_size = VU_CONFIG_MAX_SIZE + 1, .ops = &fake_ops };
	struct event_loop *loop = event_loop_create();
	struct vu_config *req = calloc(1, sizeof(*req) + 1);
	uint8_t reply[VU_MAX_PAYLOAD];
	struct vu_msg_header hdr;
	struct fixture *f;
	uint64_t ack = 0;

	assert_non_null(req);
	assert_null(vu_dev_create(loop, &over));
	event_loop_destroy(loop);

	setup_device((void **)&f, 2, VU_CONFIG_MAX_SIZE);
	negotiate(f);
	for (uint32_t i = 0; i < VU_CONFIG_MAX_SIZE; i++) {
		f->fake.config[i] = (uint8_t)(i * 7 + 1);
	}
	req->size = VU_CONFIG_MAX_SIZE;
	send_msg(f, VU_REQ_GET_CONFIG, VU_VERSION, req, VU_CONFIG_HDR_SIZE + VU_CONFIG_MAX_SIZE,
		NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, reply, sizeof(reply)), GOT_REPLY);
	assert_int_equal(hdr.size, VU_CONFIG_HDR_SIZE + VU_CONFIG_MAX_SIZE);
	assert_memory_equal(reply + VU_CONFIG_HDR_SIZE, f->fake.config, VU_CONFIG_MAX_SIZE);
	/* write all 256 back, changed */
	for (uint32_t i = 0; i < VU_CONFIG_MAX_SIZE; i++) {
		req->region[i] = (uint8_t)~i;
	}
	send_msg(f, VU_REQ_SET_CONFIG, VU_VERSION | VU_FLAG_NEED_REPLY, req,
		VU_CONFIG_HDR_SIZE + VU_CONFIG_MAX_SIZE, NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
	assert_int_equal(ack, 0);
	assert_memory_equal(f->fake.config, req->region, VU_CONFIG_MAX_SIZE);
	/* one byte more */
	req->size = VU_CONFIG_MAX_SIZE + 1;
	send_msg(f, VU_REQ_SET_CONFIG, VU_VERSION | VU_FLAG_NEED_REPLY, req,
		VU_CONFIG_HDR_SIZE + VU_CONFIG_MAX_SIZE + 1, NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
	assert_int_equal(ack, 1);
	send_msg(f, VU_REQ_GET_CONFIG, VU_VERSION, req, VU_CONFIG_HDR_SIZE + VU_CONFIG_MAX_SIZE + 1,
		NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, reply, sizeof(reply)), DISCONNECTED);
	assert_int_equal(f->disconnects, 1);
	free(req);
	teardown((void **)&f);
}

/* VU_MAX_PAYLOAD: a message of exactly 4096 payload bytes is read whole and goes to its handler. */
static void test_payload_at_limit(void **state)
{
	struct fixture *f = *state;
	uint8_t *payload = calloc(1, VU_MAX_PAYLOAD);
	struct vu_msg_header hdr;
	uint64_t ack = 0;

	assert_non_null(payload);
	negotiate(f);
	/* SET_FEATURES must be 8 bytes: refused after the whole message was read */
	send_msg(f, VU_REQ_SET_FEATURES, VU_VERSION | VU_FLAG_NEED_REPLY, payload, VU_MAX_PAYLOAD,
		NULL, 0);
	assert_int_equal(wait_reply(f, &hdr, &ack, 8), GOT_REPLY);
	assert_int_equal(hdr.request, VU_REQ_SET_FEATURES);
	assert_int_equal(ack, 1);
	/* the next message is read from the right place: the stream is still in step */
	assert_int_equal(request_u64(f, VU_REQ_GET_QUEUE_NUM), 2);
	assert_int_equal(f->disconnects, 0);
	free(payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_covers_every_id),
		cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
		cmocka_unit_test(test_each_request_valid),
		cmocka_unit_test(test_each_request_bad_size),
		cmocka_unit_test(test_each_request_bad_fds),
		cmocka_unit_test(test_each_request_bad_index),
		cmocka_unit_test_setup_teardown(test_unsupported_requests, setup, teardown),
		cmocka_unit_test(test_bad_headers_disconnect),
		cmocka_unit_test_setup_teardown(test_too_many_fds_disconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_message_then_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_table_and_rings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_many, setup, teardown),
		cmocka_unit_test(test_max_queues),
		cmocka_unit_test(test_config_max_size),
		cmocka_unit_test_setup_teardown(test_payload_at_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
