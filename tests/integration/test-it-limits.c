/* SPDX-License-Identifier: MIT */
/*
 * Every limit on what the guest or the frontend controls, against the real
 * daemon in 2D mode, at the limit and one past it (docs/security.md, "Inputs,
 * their limits"): resource count and host memory (16384 resources are
 * created in batches that fill a 1024-entry ring, so this stays fast under
 * ASan), and the vhost-user limits: payload size, fds per message, regions
 * per SET_MEM_TABLE, memory slots, queue size, config size, ring index.
 *
 * Past a limit the guest gets an error response; the frontend gets a
 * failure ack, or the connection is dropped and the next one is served.
 * The limits below are the daemon's documented values, written out here so
 * a change of them shows up as a failing test.
 *
 * Usage: test-it-limits path/to/vhost-device-gpu
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define OK VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_RES VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define XRGB VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM

/* src/virtio-gpu/gpu-priv.h */
#define MAX_RESOURCES 16384u
#define MAX_HOST_MEMORY (UINT64_C(1) << 30)
#define MAX_DIMENSION 16384u
/* src/vhost-user: vu-proto.h, vu-mem.h, vu-vring.h */
#define MAX_PAYLOAD 4096u
#define MAX_FDS 8u
#define MEM_TABLE_MAX_REGIONS 8u
#define MAX_MEM_SLOTS 509u
#define VRING_MAX_SIZE 1024u
#define CONFIG_MAX_SIZE 256u

#define PAGE 4096u
/* Guest-physical and frontend-virtual addresses of the extra regions: far from guest RAM. */
#define EXTRA_GPA (UINT64_C(1) << 32)
#define EXTRA_UVA (UINT64_C(0x500000000000))

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct vdgfe *connect_negotiated(void)
{
	struct vdgfe_config cfg;

	itest_config(&cfg);
	itest_fe = vdgfe_create(&cfg);
	assert_non_null(itest_fe);
	assert_int_equal(vdgfe_negotiate(itest_fe), 0);
	return itest_fe;
}

/* A w x h resource whose pixels all have colour c, shown on scanout 0; checks pixel (0, 0). */
static void show_colour(struct vdgfe *fe, uint32_t id, uint32_t w, uint32_t h, uint32_t c)
{
	uint64_t gpa = itest_resource(fe, id, XRGB, w, h);
	uint64_t n = fe->sink.counts[VUGPU_UPDATE];
	bool ok = false;

	for (uint32_t i = 0; i < w * h; i++) {
		assert_int_equal(vdgfe_mem_write(fe, gpa + 4ull * i, &c, 4), 0);
	}
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, id, 0, 0, w, h, 0), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, id, 0, 0, w, h), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, id, 0, 0, w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, n + 1), 0);
	assert_int_equal(vdgfe_sink_pixel(&fe->sink, 0, 0, 0, &ok) & 0xffffff, c & 0xffffff);
	assert_true(ok);
}

/* A fresh frontend on the group daemon is fully served. */
static void check_serves(void)
{
	struct vdgfe *fe = itest_fe_start(NULL);

	show_colour(fe, 1, 16, 8, 0x00336699);
	assert_int_equal(fe->sink.violations, 0);
	itest_fe_destroy();
}

/* A resource of one pixel whose backing is at gpa; its pixel reaches the screen as want. */
static void check_backing_pixel(struct vdgfe *fe, uint32_t id, uint64_t gpa, uint32_t want)
{
	uint64_t n = fe->sink.counts[VUGPU_UPDATE];
	bool ok = false;

	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, id, XRGB, 1, 1), OK);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, id, gpa, 4, 0), OK);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, id, 0, 0, 1, 1, 0), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, id, 0, 0, 1, 1), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, id, 0, 0, 1, 1), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, n + 1), 0);
	assert_int_equal(vdgfe_sink_pixel(&fe->sink, 0, 0, 0, &ok) & 0xffffff, want & 0xffffff);
	assert_true(ok);
}

/* ---- guest limits ---------------------------------------------------------------------- */

static size_t build_create_1x1(struct vdgfe *fe, uint32_t i, void *buf, void *arg)
{
	struct virtio_gpu_resource_create_2d *c = buf;

	memset(c, 0, sizeof(*c));
	vdgfe_gpu_hdr(fe, &c->hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
	c->resource_id = htole32(*(const uint32_t *)arg + i);
	c->format = htole32(XRGB);
	c->width = htole32(1);
	c->height = htole32(1);
	return sizeof(*c);
}

/* GPU_MAX_RESOURCES: 16384 resources exist at once, the 16385th is OUT_OF_MEMORY. */
static void test_resource_count(void **state)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint32_t first = 1;
	double t0 = now_s();

	(void)state;
	itest_config(&cfg);
	cfg.ctrl_qsize = VRING_MAX_SIZE; /* a full ring of chains in flight: the queue-size limit */
	fe = itest_fe_start(&cfg);
	itest_batch(fe, MAX_RESOURCES, build_create_1x1, &first, OK);
	fprintf(stderr, "it-limits: %u resources created in %.2f s\n", MAX_RESOURCES, now_s() - t0);
	/* one past the count: tiny, but refused */
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, MAX_RESOURCES + 1, XRGB, 1, 1), E_OOM);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 0x7fffffffu, XRGB, 1, 1), E_OOM);
	/* the refused ids were not taken */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, MAX_RESOURCES + 1), E_RES);
	/* one freed, one more fits, and the limit holds again */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 77), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, MAX_RESOURCES + 1, XRGB, 1, 1), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, MAX_RESOURCES + 2, XRGB, 1, 1), E_OOM);
	/* every one of them is a real resource: the last one created shows on screen */
	uint64_t gpa;
	uint32_t c = 0x00a0b0c0;

	assert_int_equal(vdgfe_mem_alloc(fe, 4, 16, 0, &gpa), 0);
	assert_int_equal(vdgfe_mem_write(fe, gpa, &c, 4), 0);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, MAX_RESOURCES + 1, gpa, 4, 0), OK);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, MAX_RESOURCES + 1, 0, 0, 1, 1, 0), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, MAX_RESOURCES + 1, 0, 0, 1, 1), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, MAX_RESOURCES + 1, 0, 0, 1, 1), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 1), 0);
	bool ok = false;

	assert_int_equal(vdgfe_sink_pixel(&fe->sink, 0, 0, 0, &ok) & 0xffffff, c);
	assert_true(ok);
	assert_int_equal(fe->sink.violations, 0);
	fprintf(stderr, "it-limits: resource count test done in %.2f s\n", now_s() - t0);
	/* all 16384 go with the connection (ASan checks nothing leaks) */
}

/* GPU_MAX_HOST_MEMORY: exactly 1 GiB of images fits; 4 bytes or one backing entry more do not. */
static void test_host_memory(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	uint64_t gpa;

	(void)state;
	assert_int_equal(vdgfe_mem_alloc(fe, PAGE, PAGE, 0, &gpa), 0);
	/* one image of exactly the budget: 16384 x 16384 x 4 bytes */
	assert_int_equal((uint64_t)MAX_DIMENSION * MAX_DIMENSION * 4, MAX_HOST_MEMORY);
	assert_int_equal(
	        vdgfe_gpu_resource_create_2d(fe, 1, XRGB, MAX_DIMENSION, MAX_DIMENSION), OK);
	/* one pixel more */
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 2, XRGB, 1, 1), E_OOM);
	/* a backing table counts too: one entry is over the budget */
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 1, gpa, PAGE, 0), E_OOM);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, 1, 1, 0), E_UNSPEC);
	/* freed: the budget is whole again */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), OK);
	/* the budget reached with two images: 16384 x 16383 and 16384 x 1 */
	assert_int_equal(
	        vdgfe_gpu_resource_create_2d(fe, 1, XRGB, MAX_DIMENSION, MAX_DIMENSION - 1), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 2, XRGB, MAX_DIMENSION, 1), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 3, XRGB, 1, 1), E_OOM);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 2, gpa, PAGE, 0), E_OOM);
	/* 64 KiB freed: a small image with a backing fits, and shows */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 2), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 3, XRGB, 1, 1), OK);
	uint32_t c = 0x00123456;

	assert_int_equal(vdgfe_mem_write(fe, gpa, &c, 4), 0);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 3, gpa, 4, 0), OK);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 3, 0, 0, 1, 1, 0), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 3, 0, 0, 1, 1), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 3, 0, 0, 1, 1), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 1), 0);
	bool ok = false;

	assert_int_equal(vdgfe_sink_pixel(&fe->sink, 0, 0, 0, &ok) & 0xffffff, c);
	assert_true(ok);
}

/* ---- frontend limits ------------------------------------------------------------------- */

/* Receives one u64 ack for request req; returns its value. */
static uint64_t recv_ack(struct vdgfe *fe, uint32_t req)
{
	struct vu_msg_header hdr;
	int fds[VU_MAX_FDS];
	unsigned int nfds = 0;
	uint64_t ack = 0;

	assert_int_equal(
	        vdgfe_recv_raw(fe, &hdr, &ack, sizeof(ack), fds, &nfds, ITEST_TIMEOUT_MS), 8);
	assert_int_equal(hdr.request, req);
	assert_int_equal(hdr.flags, VU_VERSION | VU_FLAG_REPLY);
	assert_int_equal(nfds, 0);
	return ack;
}

/* VU_MAX_PAYLOAD: a 4096-byte payload is read and refused by its request; 4097 drops the session.
 */
static void test_vu_payload(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	uint8_t *buf = calloc(1, MAX_PAYLOAD + 1);
	uint64_t v = 0;

	(void)state;
	assert_non_null(buf);
	/* SET_FEATURES is 8 bytes: the message is read whole, then refused with a failure ack */
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_SET_FEATURES, VU_VERSION | VU_FLAG_NEED_REPLY,
	                         MAX_PAYLOAD, buf, MAX_PAYLOAD, NULL, 0),
	        0);
	assert_int_not_equal(recv_ack(fe, VU_REQ_SET_FEATURES), 0);
	/* a request the daemon does not implement, with the largest payload: the same */
	assert_int_equal(
	        vdgfe_send_raw(fe, VU_REQ_SET_VRING_ENDIAN, VU_VERSION | VU_FLAG_NEED_REPLY,
	                MAX_PAYLOAD, buf, MAX_PAYLOAD, NULL, 0),
	        0);
	assert_int_not_equal(recv_ack(fe, VU_REQ_SET_VRING_ENDIAN), 0);
	/* nothing of either was applied: the session goes on as before */
	assert_int_equal(vdgfe_get_u64(fe, VU_REQ_GET_QUEUE_NUM, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 9, XRGB, 4, 4), OK);
	/* one byte more: the header alone is refused and the connection dropped */
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_SET_FEATURES, VU_VERSION, MAX_PAYLOAD + 1, NULL,
	                         0, NULL, 0),
	        0);
	assert_int_equal(vdgfe_wait_closed(fe, ITEST_TIMEOUT_MS), 0);
	free(buf);
	itest_fe_destroy();
	check_serves();
}

/* A SET_MEM_TABLE payload of n regions: fe's region 0 (the rings), then 1-page extra regions. */
static size_t mem_table(struct vdgfe *fe, uint32_t n, int extra_fd, uint8_t *buf, int *fds)
{
	struct vu_mem_region r;
	uint32_t hdr[2] = {n, 0};

	memcpy(buf, hdr, sizeof(hdr));
	for (uint32_t i = 0; i < n; i++) {
		if (i == 0) {
			r = (struct vu_mem_region){fe->regions[0].gpa, fe->regions[0].size,
			        (uintptr_t)fe->regions[0].hva, 0};
			fds[i] = fe->regions[0].fd;
		} else {
			r = (struct vu_mem_region){EXTRA_GPA + i * 16ull * PAGE, PAGE,
			        EXTRA_UVA + i * 16ull * PAGE, (uint64_t)i * PAGE};
			fds[i] = extra_fd;
		}
		memcpy(buf + VU_MEM_TABLE_HDR_SIZE + i * sizeof(r), &r, sizeof(r));
	}
	return VU_MEM_TABLE_HDR_SIZE + n * sizeof(r);
}

/*
 * VU_MEM_TABLE_MAX_REGIONS and VU_MAX_FDS: a table of 8 regions with 8 fds
 * replaces guest memory (every region usable); 9 regions with the 8 fds a
 * message may carry get a failure ack and the old table stays; 9 fds cannot
 * be received whole and drop the session.
 */
static void test_vu_mem_table_and_fds(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	uint8_t buf[VU_MEM_TABLE_HDR_SIZE + 9 * sizeof(struct vu_mem_region)];
	int fds[9];
	uint8_t *extra;
	int extra_fd = itest_memfd(16 * PAGE, &extra);
	size_t len;
	uint32_t c = 0x00c0ffee;

	(void)state;
	for (unsigned int i = 1; i < 9; i++) {
		memcpy(extra + i * PAGE, &c, 4);
	}
	len = mem_table(fe, MEM_TABLE_MAX_REGIONS, extra_fd, buf, fds);
	assert_int_equal(vdgfe_send(fe, VU_REQ_SET_MEM_TABLE, buf, (uint32_t)len, fds,
	                         MEM_TABLE_MAX_REGIONS, true),
	        0);
	/* the rings still run (region 0), and the last region is guest memory */
	check_backing_pixel(fe, 1, EXTRA_GPA + 7 * 16ull * PAGE, c);
	/* nine regions, eight fds: refused by the table check, nothing changes */
	len = mem_table(fe, MEM_TABLE_MAX_REGIONS + 1, extra_fd, buf, fds);
	assert_int_equal(vdgfe_send(fe, VU_REQ_SET_MEM_TABLE, buf, (uint32_t)len, fds,
	                         MEM_TABLE_MAX_REGIONS, true),
	        -EIO);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, 1, 1, 0), OK);
	check_backing_pixel(fe, 2, EXTRA_GPA + 1 * 16ull * PAGE, c);
	/* nine regions and nine fds: one fd more than a message may carry */
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_SET_MEM_TABLE, VU_VERSION | VU_FLAG_NEED_REPLY,
	                         (uint32_t)len, buf, len, fds, MAX_FDS + 1),
	        0);
	assert_int_equal(vdgfe_wait_closed(fe, ITEST_TIMEOUT_MS), 0);
	itest_fe_destroy();
	munmap(extra, 16 * PAGE);
	close(extra_fd);
	check_serves();
}

static int add_region(struct vdgfe *fe, uint32_t req, unsigned int i, int fd)
{
	struct vu_single_mem_region m = {0};

	m.region.guest_phys_addr = EXTRA_GPA + i * 2ull * PAGE;
	m.region.memory_size = PAGE;
	m.region.userspace_addr = EXTRA_UVA + i * 2ull * PAGE;
	m.region.mmap_offset = 0;
	return vdgfe_send(fe, req, &m, sizeof(m), req == VU_REQ_ADD_MEM_REG ? &fd : NULL,
	        req == VU_REQ_ADD_MEM_REG ? 1 : 0, true);
}

/* VU_MAX_MEM_SLOTS: 509 regions through ADD_MEM_REG, the 510th refused; a removed one frees a slot.
 */
static void test_vu_mem_slots(void **state)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint8_t *extra;
	int extra_fd = itest_memfd(PAGE, &extra);
	uint32_t c = 0x00beef00;
	unsigned int i;
	double t0 = now_s();

	(void)state;
	itest_config(&cfg);
	cfg.use_mem_slots = true;
	fe = itest_fe_start(&cfg);
	assert_int_equal(fe->max_mem_slots, MAX_MEM_SLOTS);
	assert_int_equal(fe->nregions, 1); /* guest RAM took one slot */
	memcpy(extra, &c, 4);
	for (i = fe->nregions; i < MAX_MEM_SLOTS; i++) {
		if (add_region(fe, VU_REQ_ADD_MEM_REG, i, extra_fd) != 0) {
			fail_msg("ADD_MEM_REG of slot %u refused", i);
		}
	}
	/* one past */
	assert_int_equal(add_region(fe, VU_REQ_ADD_MEM_REG, i, extra_fd), -EIO);
	/* the last slot is guest memory, and the rings still run */
	check_backing_pixel(fe, 1, EXTRA_GPA + (MAX_MEM_SLOTS - 1) * 2ull * PAGE, c);
	/* removing one frees a slot; its memory is gone for the guest */
	assert_int_equal(add_region(fe, VU_REQ_REM_MEM_REG, MAX_MEM_SLOTS - 1, -1), 0);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, 1, 1, 0), E_UNSPEC);
	assert_int_equal(add_region(fe, VU_REQ_ADD_MEM_REG, MAX_MEM_SLOTS + 10, extra_fd), 0);
	assert_int_equal(add_region(fe, VU_REQ_ADD_MEM_REG, MAX_MEM_SLOTS + 11, extra_fd), -EIO);
	check_backing_pixel(fe, 2, EXTRA_GPA + (MAX_MEM_SLOTS + 10) * 2ull * PAGE, c);
	/* removing what is not there */
	assert_int_equal(add_region(fe, VU_REQ_REM_MEM_REG, MAX_MEM_SLOTS - 1, -1), -EIO);
	fprintf(stderr, "it-limits: %u memory slots in %.2f s\n", MAX_MEM_SLOTS, now_s() - t0);
	itest_fe_destroy();
	munmap(extra, PAGE);
	close(extra_fd);
	/* all 509 mappings went with the session */
	check_serves();
}

/* VU_VRING_MAX_SIZE: 1024 is accepted (and used), 2048 and non-powers of two are not. */
static void test_vu_queue_size(void **state)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe = connect_negotiated();

	(void)state;
	assert_int_equal(
	        vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, 0, VRING_MAX_SIZE, true), 0);
	assert_int_equal(
	        vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, 1, VRING_MAX_SIZE, true), 0);
	assert_int_equal(
	        vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, 0, 2 * VRING_MAX_SIZE, true), -EIO);
	assert_int_equal(
	        vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, 0, VRING_MAX_SIZE + 1, true), -EIO);
	assert_int_equal(vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, 0, 0, true), -EIO);
	assert_int_equal(vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, 0, 65536, true), -EIO);
	itest_fe_destroy();
	/* both rings at the limit carry commands */
	itest_config(&cfg);
	cfg.ctrl_qsize = VRING_MAX_SIZE;
	cfg.cursor_qsize = VRING_MAX_SIZE;
	fe = itest_fe_start(&cfg);
	show_colour(fe, 1, 8, 8, 0x00445566);
	assert_int_equal(vdgfe_gpu_move_cursor(fe, 0, 3, 4), OK);
}

/*
 * VU_CONFIG_MAX_SIZE: GET_CONFIG of 256 bytes passes the message check (and
 * gets the empty "failed" reply: the GPU's config space is 16 bytes); 257
 * bytes cannot be answered in shape and drop the session. SET_CONFIG gets a
 * failure ack either way.
 */
static void test_vu_config_size(void **state)
{
	struct vdgfe *fe = connect_negotiated();
	struct vu_config *req = calloc(1, sizeof(*req) + 1);
	struct vu_msg_header hdr;
	uint8_t rep[VU_CONFIG_HDR_SIZE + CONFIG_MAX_SIZE + 1];
	int fds[VU_MAX_FDS];
	unsigned int nfds = 0;
	uint8_t cfg[16];

	(void)state;
	assert_non_null(req);
	req->size = CONFIG_MAX_SIZE;
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_GET_CONFIG, VU_VERSION,
	                         VU_CONFIG_HDR_SIZE + CONFIG_MAX_SIZE, req,
	                         VU_CONFIG_HDR_SIZE + CONFIG_MAX_SIZE, NULL, 0),
	        0);
	assert_int_equal(
	        vdgfe_recv_raw(fe, &hdr, rep, sizeof(rep), fds, &nfds, ITEST_TIMEOUT_MS), 0);
	assert_int_equal(hdr.request, VU_REQ_GET_CONFIG);
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_SET_CONFIG, VU_VERSION | VU_FLAG_NEED_REPLY,
	                         VU_CONFIG_HDR_SIZE + CONFIG_MAX_SIZE, req,
	                         VU_CONFIG_HDR_SIZE + CONFIG_MAX_SIZE, NULL, 0),
	        0);
	assert_int_not_equal(recv_ack(fe, VU_REQ_SET_CONFIG), 0);
	req->size = CONFIG_MAX_SIZE + 1;
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_SET_CONFIG, VU_VERSION | VU_FLAG_NEED_REPLY,
	                         VU_CONFIG_HDR_SIZE + CONFIG_MAX_SIZE + 1, req,
	                         VU_CONFIG_HDR_SIZE + CONFIG_MAX_SIZE + 1, NULL, 0),
	        0);
	assert_int_not_equal(recv_ack(fe, VU_REQ_SET_CONFIG), 0);
	/* the session went on through all of that: the real config space reads fine */
	assert_int_equal(vdgfe_get_config(fe, 0, cfg, sizeof(cfg)), 0);
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_GET_CONFIG, VU_VERSION,
	                         VU_CONFIG_HDR_SIZE + CONFIG_MAX_SIZE + 1, req,
	                         VU_CONFIG_HDR_SIZE + CONFIG_MAX_SIZE + 1, NULL, 0),
	        0);
	assert_int_equal(vdgfe_wait_closed(fe, ITEST_TIMEOUT_MS), 0);
	free(req);
	itest_fe_destroy();
	check_serves();
}

/*
 * Ring indexes: the GPU has 2 queues (VU_MAX_QUEUES, 8, only bounds the
 * array; tests/unit/test-vu-dev.c checks it): index 1 is accepted, index 2 is
 * refused with a failure ack, or drops the session when the request has its
 * own reply (GET_VRING_BASE).
 */
static void test_vu_ring_index(void **state)
{
	struct vdgfe *fe = connect_negotiated();
	struct vu_vring_state st = {.index = 2, .num = 0};

	(void)state;
	assert_int_equal(vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, 1, 16, true), 0);
	assert_int_equal(vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, 2, 16, true), -EIO);
	assert_int_equal(vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_BASE, 2, 0, true), -EIO);
	assert_int_equal(vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_ENABLE, 2, 1, true), -EIO);
	/* KICK/CALL/ERR carry the index in the low byte of a u64: 2 and 255 are past the end */
	for (uint64_t idx = 2; idx <= 0xff; idx += 0xff - 2) {
		uint64_t v = idx | VU_VRING_NOFD_MASK;

		assert_int_equal(
		        vdgfe_send(fe, VU_REQ_SET_VRING_CALL, &v, sizeof(v), NULL, 0, true), -EIO);
	}
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_GET_VRING_BASE, VU_VERSION, sizeof(st), &st,
	                         sizeof(st), NULL, 0),
	        0);
	assert_int_equal(vdgfe_wait_closed(fe, ITEST_TIMEOUT_MS), 0);
	itest_fe_destroy();
	check_serves();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_resource_count, itest_teardown),
	        cmocka_unit_test_teardown(test_host_memory, itest_teardown),
	        cmocka_unit_test_teardown(test_vu_payload, itest_teardown),
	        cmocka_unit_test_teardown(test_vu_mem_table_and_fds, itest_teardown),
	        cmocka_unit_test_teardown(test_vu_mem_slots, itest_teardown),
	        cmocka_unit_test_teardown(test_vu_queue_size, itest_teardown),
	        cmocka_unit_test_teardown(test_vu_config_size, itest_teardown),
	        cmocka_unit_test_teardown(test_vu_ring_index, itest_teardown),
	};

	itest_init(argc, argv);
	return itest_exit(cmocka_run_group_tests(tests, itest_group_setup, itest_group_teardown));
}
