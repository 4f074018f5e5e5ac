/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/virtio-gpu/gpu-decode.c: the command table and
 * gpu_decode(), the one place a virtio-gpu request is copied out of guest
 * memory and checked (type, queue, feature, size) before any handler runs.
 *
 * Requests are real descriptor chains in fake guest RAM (tests/helpers),
 * popped with vu_vring_pop(), so split requests and indirect tables reach the
 * decoder as the daemon's own vu_elem. Each guest RAM mapping is moved between
 * two PROT_NONE pages: a read outside guest memory faults instead of passing
 * unnoticed. vu_elem_read() is wrapped (-Wl,--wrap, see tests/meson.build) to
 * record what the decoder reads and to play a guest that rewrites its request
 * while it is being decoded.
 *
 * The expected table below is written from the virtio spec and
 * linux/virtio_gpu.h (sizes as numbers), not from the code's table.
 */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_gpu.h>

#include "cleanup.h"
#include "gpu-priv.h"
#include "log.h"
#include "ring.h"
#include "vu-vring.h"

#define RAM_SIZE (1u << 20)
#define RAM2_GPA RAM_SIZE /* a second region right after the first */
#define RAM2_SIZE 0x10000u
#define RING_GPA 0x1000u
#define NUM 128 /* room for a 96-byte request cut into one-byte descriptors */
#define DATA_GPA 0x10000u
#define TABLE_GPA 0xe0000u /* indirect table, up to 1024 entries */
#define RESP_GPA 0xf0000u
#define RESP_LEN 24u

#define HDR_SIZE 24u
#define REQ_MAX 8192u /* largest request these tests build */
#define CANARY 0x5a   /* fills struct gpu_cmd before each decode */
#define ALL_FEATURES UINT64_MAX
#define NO_FEATURE (-1)

/* header values every request carries, all bytes distinct */
#define HDR_FLAGS (VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX)
#define HDR_FENCE(type) (UINT64_C(0x8877665544332211) + (type))
#define HDR_CTX(type) (0xc0de0000u | (type))
#define HDR_RING_IDX 5u

/* ---- what the table must say, command by command ---- */

struct expect {
	uint32_t type;
	const char *name;
	uint32_t size; /* the request struct's wire size */
	unsigned int queue;
	int feature;
	gpu_cmd_handler handle;
};

#define E(type_, size_, queue_, feature_, handle_)                                                 \
	{ (type_), #type_, (size_), (queue_), (feature_), (handle_) }

static const struct expect cmds[] = {
	E(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 24, GPU_QUEUE_CTRL, NO_FEATURE,
		gpu_cmd_get_display_info),
	E(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 40, GPU_QUEUE_CTRL, NO_FEATURE,
		gpu_cmd_resource_create_2d),
	E(VIRTIO_GPU_CMD_RESOURCE_UNREF, 32, GPU_QUEUE_CTRL, NO_FEATURE, gpu_cmd_resource_unref),
	E(VIRTIO_GPU_CMD_SET_SCANOUT, 48, GPU_QUEUE_CTRL, NO_FEATURE, gpu_cmd_set_scanout),
	E(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 48, GPU_QUEUE_CTRL, NO_FEATURE, gpu_cmd_resource_flush),
	E(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 56, GPU_QUEUE_CTRL, NO_FEATURE,
		gpu_cmd_transfer_to_host_2d),
	E(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 32, GPU_QUEUE_CTRL, NO_FEATURE,
		gpu_cmd_attach_backing),
	E(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 32, GPU_QUEUE_CTRL, NO_FEATURE,
		gpu_cmd_detach_backing),
	E(VIRTIO_GPU_CMD_GET_CAPSET_INFO, 32, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL,
		gpu_cmd_get_capset_info),
	E(VIRTIO_GPU_CMD_GET_CAPSET, 32, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL, gpu_cmd_get_capset),
	E(VIRTIO_GPU_CMD_GET_EDID, 32, GPU_QUEUE_CTRL, VIRTIO_GPU_F_EDID, gpu_cmd_get_edid),
	E(VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, 32, GPU_QUEUE_CTRL, VIRTIO_GPU_F_RESOURCE_UUID,
		gpu_cmd_assign_uuid),
	E(VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, 56, GPU_QUEUE_CTRL, VIRTIO_GPU_F_RESOURCE_BLOB,
		gpu_cmd_resource_create_blob),
	E(VIRTIO_GPU_CMD_SET_SCANOUT_BLOB, 96, GPU_QUEUE_CTRL, VIRTIO_GPU_F_RESOURCE_BLOB,
		gpu_cmd_set_scanout_blob),
	E(VIRTIO_GPU_CMD_CTX_CREATE, 96, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL, gpu_cmd_ctx_create),
	E(VIRTIO_GPU_CMD_CTX_DESTROY, 24, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL, gpu_cmd_ctx_destroy),
	E(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 32, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL,
		gpu_cmd_ctx_attach_resource),
	E(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 32, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL,
		gpu_cmd_ctx_detach_resource),
	E(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, 72, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL,
		gpu_cmd_resource_create_3d),
	E(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 72, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL,
		gpu_cmd_transfer_to_host_3d),
	E(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 72, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL,
		gpu_cmd_transfer_from_host_3d),
	E(VIRTIO_GPU_CMD_SUBMIT_3D, 32, GPU_QUEUE_CTRL, VIRTIO_GPU_F_VIRGL, gpu_cmd_submit_3d),
	E(VIRTIO_GPU_CMD_UPDATE_CURSOR, 56, GPU_QUEUE_CURSOR, NO_FEATURE, gpu_cmd_update_cursor),
	E(VIRTIO_GPU_CMD_MOVE_CURSOR, 56, GPU_QUEUE_CURSOR, NO_FEATURE, gpu_cmd_move_cursor),
};

/* the numbers above are the wire sizes of the UAPI structs */
_Static_assert(sizeof(struct virtio_gpu_ctrl_hdr) == HDR_SIZE, "header");
_Static_assert(sizeof(struct virtio_gpu_resource_create_2d) == 40, "create_2d");
_Static_assert(sizeof(struct virtio_gpu_transfer_to_host_2d) == 56, "transfer_2d");
_Static_assert(sizeof(struct virtio_gpu_ctx_create) == 96, "ctx_create");
_Static_assert(sizeof(struct virtio_gpu_resource_create_3d) == 72, "create_3d");
_Static_assert(sizeof(struct virtio_gpu_transfer_host_3d) == 72, "transfer_3d");
_Static_assert(sizeof(struct virtio_gpu_update_cursor) == 56, "cursor");
_Static_assert(sizeof(struct virtio_gpu_resource_create_blob) == 56, "create_blob");
_Static_assert(sizeof(struct virtio_gpu_set_scanout_blob) == 96, "set_scanout_blob");

/*
 * Types the decoder must refuse: the blob commands we do not implement
 * (MAP/UNMAP: no host-visible region), the
 * slots just past each group, responses, other groups, and valid low bytes
 * under high bits (the table is indexed by the low byte).
 */
static const uint32_t unknown_types[] = {
	0x0000, 0x0001, 0x00ff,
	0x010e, 0x01ff,
	VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 0x020a, 0x02ff,
	0x0302, 0x03ff, 0x0400, 0x0401, VIRTIO_GPU_RESP_OK_NODATA, VIRTIO_GPU_RESP_ERR_UNSPEC,
	0x00010100, 0x00010300, 0x01000200, 0x80000100, 0x80000301, 0xffffff00, 0xffffffff,
};

/* ---- failure messages that name the command ---- */

static char ctx[160];

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fail_msg("%s: %s (line %d)", ctx, #c, __LINE__);                           \
		}                                                                                  \
	} while (0)
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);     \
		if (a_ != b_) {                                                                    \
			fail_msg("%s: %s is 0x%llx, expected %s = 0x%llx (line %d)", ctx, #a, a_,   \
				#b, b_, __LINE__);                                                 \
		}                                                                                  \
	} while (0)

/* ---- the vu_elem_read() spy: what the decoder read, and a racing guest ---- */

int __real_vu_elem_read(const struct vu_mem *mem, const struct vu_elem *elem, uint64_t offset,
	void *buf, size_t len);
int __wrap_vu_elem_read(const struct vu_mem *mem, const struct vu_elem *elem, uint64_t offset,
	void *buf, size_t len);

#define SPY_MAX 16

static struct {
	unsigned int n;
	struct {
		uint64_t offset;
		size_t len;
		int ret;
	} reads[SPY_MAX];
	/* called after every read: a guest vCPU rewriting its request meanwhile */
	void (*race)(void *data);
	void *race_data;
} spy;

int __wrap_vu_elem_read(const struct vu_mem *mem, const struct vu_elem *elem, uint64_t offset,
	void *buf, size_t len)
{
	int r = __real_vu_elem_read(mem, elem, offset, buf, len);

	if (spy.n < SPY_MAX) {
		spy.reads[spy.n].offset = offset;
		spy.reads[spy.n].len = len;
		spy.reads[spy.n].ret = r;
	}
	spy.n++;
	if (spy.race) {
		spy.race(spy.race_data);
	}
	return r;
}

/* Bytes of the request the decoder copied out of guest memory (successful reads). */
static uint64_t spy_bytes_read(void)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < spy.n && i < SPY_MAX; i++) {
		total += spy.reads[i].ret == 0 ? spy.reads[i].len : 0;
	}
	return total;
}

/* ---- fixture: guest RAM between guard pages, a ring with indirect descriptors ---- */

struct guard {
	uint8_t *area; /* PROT_NONE page, the mapping, PROT_NONE page */
	size_t map_len;
};

struct fixture {
	struct test_guest_mem g;
	struct test_guest_mem g2; /* second region, if two_regions */
	bool two_regions;
	struct vu_mem mem;
	struct guard guards[2];
	struct test_ring ring;
	struct vu_vring vq;
};

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * Moves vu_mem's own mapping of a region between two PROT_NONE pages, so the
 * decoder faults (and the test dies) if it reads one byte before or after.
 */
static void guard_map(struct vu_mem_map *m, struct guard *gd)
{
	size_t page = page_size();
	size_t len = (m->mmap_size + page - 1) & ~(page - 1);
	uint8_t *area = mmap(NULL, len + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *moved;

	assert_true(area != MAP_FAILED);
	moved = mremap(m->mmap_addr, m->mmap_size, m->mmap_size, MREMAP_MAYMOVE | MREMAP_FIXED,
		area + page);
	assert_ptr_equal(moved, area + page);
	m->mmap_addr = moved;
	m->host = (uint8_t *)moved + m->mmap_offset;
	gd->area = area;
	gd->map_len = len;
}

static void guard_release(struct guard *gd)
{
	size_t page = page_size();

	if (gd->area) {
		/* the middle is vu_mem's, unmapped by vu_mem_finish() or vu_mem_remove() */
		munmap(gd->area, page);
		munmap(gd->area + page + gd->map_len, page);
	}
}

static int setup_common(void **state, bool two_regions)
{
	struct fixture *f = calloc(1, sizeof(*f));

	log_set_level(LOG_LEVEL_OFF);
	memset(&spy, 0, sizeof(spy));
	assert_non_null(f);
	assert_int_equal(test_guest_mem_create(&f->g, RAM_SIZE, 0), 0);
	vu_mem_init(&f->mem);
	assert_int_equal(test_guest_mem_add_to(&f->g, &f->mem), 0);
	if (two_regions) {
		assert_int_equal(test_guest_mem_create(&f->g2, RAM2_SIZE, RAM2_GPA), 0);
		assert_int_equal(test_guest_mem_add_to(&f->g2, &f->mem), 0);
		f->two_regions = true;
	}
	for (unsigned int i = 0; i < f->mem.nmaps; i++) {
		guard_map(&f->mem.maps[i], &f->guards[i]);
	}
	test_ring_init(&f->ring, &f->g, NUM, RING_GPA);
	vu_vring_init(&f->vq, GPU_QUEUE_CTRL, &f->mem);
	f->vq.num = NUM;
	f->vq.addr = test_ring_addr(&f->ring, 0);
	f->vq.addr_set = true;
	assert_int_equal(vu_vring_map(&f->vq), 0);
	f->vq.started = true;
	f->vq.enabled = true;
	f->vq.indirect = true;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, false);
}

static int setup_two_regions(void **state)
{
	return setup_common(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vu_vring_reset(&f->vq);
	vu_mem_finish(&f->mem);
	for (unsigned int i = 0; i < ARRAY_SIZE(f->guards); i++) {
		guard_release(&f->guards[i]);
	}
	if (f->two_regions) {
		test_guest_mem_destroy(&f->g2);
	}
	test_guest_mem_destroy(&f->g);
	free(f);
	memset(&spy, 0, sizeof(spy));
	return 0;
}

/* ---- building requests ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
	for (unsigned int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (unsigned int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

/* A request of type: a byte pattern, then the header written field by field in little-endian. */
static void make_request(uint8_t *buf, size_t len, uint32_t type)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)(i * 37 + type + 11);
	}
	put_le32(buf + 0, type);
	put_le32(buf + 4, HDR_FLAGS);
	put_le64(buf + 8, HDR_FENCE(type));
	put_le32(buf + 16, HDR_CTX(type));
	buf[20] = HDR_RING_IDX;
}

/*
 * Writes the request into guest RAM as npieces buffers (lengths in pieces[],
 * zero allowed) with garbage between them, chains them directly or through
 * an indirect table, adds a writable response buffer, publishes the chain
 * and pops it as the daemon would.
 */
static struct vu_elem *post_pieces(struct fixture *f, const uint8_t *req, const size_t *pieces,
	size_t npieces, bool indirect)
{
	struct vring_desc chain[VU_ELEM_MAX_BUFS];
	uint64_t gpa = DATA_GPA;
	size_t done = 0, n = 0;
	struct vu_elem *elem = NULL;

	assert_true(npieces + 1 <= (indirect ? VU_ELEM_MAX_BUFS : NUM));
	for (size_t i = 0; i < npieces; i++) {
		memset(test_gpa(&f->g, gpa), 0xee, 16); /* garbage the decoder must not take */
		gpa += 16;
		memcpy(test_gpa(&f->g, gpa), req + done, pieces[i]);
		chain[n] = (struct vring_desc){ gpa, (uint32_t)pieces[i], VRING_DESC_F_NEXT,
			(uint16_t)(n + 1) };
		n++;
		done += pieces[i];
		gpa = (gpa + pieces[i] + 7) & ~UINT64_C(7);
		assert_true(gpa + 16 < TABLE_GPA);
	}
	memset(test_gpa(&f->g, gpa), 0xee, 16);
	chain[n++] = (struct vring_desc){ RESP_GPA, RESP_LEN, VRING_DESC_F_WRITE, 0 };

	if (indirect) {
		memcpy(test_gpa(&f->g, TABLE_GPA), chain, n * sizeof(chain[0]));
		test_ring_set_desc(&f->ring, 0, TABLE_GPA, (uint32_t)(n * sizeof(chain[0])),
			VRING_DESC_F_INDIRECT, 0);
	} else {
		for (size_t i = 0; i < n; i++) {
			test_ring_set_desc(&f->ring, (uint16_t)i, chain[i].addr, chain[i].len,
				chain[i].flags, chain[i].next);
		}
	}
	test_ring_publish(&f->ring, 0);
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
	assert_int_equal(elem->out_len, done);
	return elem;
}

/* The first len bytes of req as one buffer (none at all if len is 0). */
static struct vu_elem *post(struct fixture *f, const uint8_t *req, size_t len)
{
	return post_pieces(f, req, &len, len ? 1 : 0, false);
}

/* The first len bytes of req cut into pieces of at most piece bytes. */
static struct vu_elem *post_cut(struct fixture *f, const uint8_t *req, size_t len, size_t piece,
	bool indirect)
{
	size_t pieces[VU_ELEM_MAX_BUFS], n = 0;

	for (size_t off = 0; off < len; off += piece) {
		pieces[n++] = len - off < piece ? len - off : piece;
	}
	return post_pieces(f, req, pieces, n, indirect);
}

/* An element built by hand, for buffers vu_vring_pop() would refuse. */
static struct vu_elem *elem_of(const struct vu_buf *bufs, unsigned int n)
{
	struct vu_elem *elem = calloc(1, sizeof(*elem) + sizeof(elem->bufs[0]) * n);

	assert_non_null(elem);
	elem->out_num = n;
	for (unsigned int i = 0; i < n; i++) {
		elem->bufs[i] = bufs[i];
		elem->out_len += bufs[i].len;
	}
	return elem;
}

/* ---- decoding and checking ---- */

static const struct gpu_cmd_desc untouched; /* what *ret_desc holds before a decode */

/* Decodes elem into *cmd, which starts full of CANARY bytes; clears the spy first. */
static gpu_resp_t decode(struct fixture *f, struct vu_elem *elem, unsigned int qidx,
	uint64_t features, struct gpu_cmd *cmd, const struct gpu_cmd_desc **desc)
{
	memset(cmd, CANARY, sizeof(*cmd));
	cmd->qidx = qidx;
	cmd->elem = elem;
	*desc = &untouched;
	spy.n = 0;
	return gpu_decode(&f->mem, cmd, features, desc);
}

/*
 * A decoded request: the command's descriptor, exactly its struct copied
 * (nothing past it), the header converted, qidx and elem left alone.
 */
static void check_decoded(const struct expect *e, const uint8_t *req, gpu_resp_t resp,
	const struct gpu_cmd *cmd, const struct gpu_cmd_desc *const *ret_desc, unsigned int qidx,
	const struct vu_elem *elem)
{
	const struct gpu_cmd_desc *desc = *ret_desc;

	CHECK_EQ(resp, 0);
	CHECK(desc == gpu_cmd_lookup(e->type));
	CHECK(desc != NULL && desc != &untouched);
	CHECK_EQ(desc->size, e->size);
	CHECK(memcmp(cmd->req.bytes, req, e->size) == 0);
	for (size_t i = e->size; i < sizeof(cmd->req); i++) {
		CHECK_EQ(cmd->req.bytes[i], CANARY);
	}
	CHECK_EQ(cmd->hdr.type, e->type);
	CHECK_EQ(cmd->hdr.flags, HDR_FLAGS);
	CHECK_EQ(cmd->hdr.fence_id, HDR_FENCE(e->type));
	CHECK_EQ(cmd->hdr.ctx_id, HDR_CTX(e->type));
	CHECK_EQ(cmd->hdr.ring_idx, HDR_RING_IDX);
	CHECK_EQ(cmd->qidx, qidx);
	CHECK(cmd->elem == elem);
}

/*
 * A refused request. Every refusal of the decoder is VIRTIO_GPU_RESP_ERR_UNSPEC,
 * by design: docs/security.md ("at least the command's struct, else
 * ERR_UNSPEC"; type, queue and feature from the one table), as QEMU's
 * VUGPU_FILL_CMD / VIRTIO_GPU_FILL_CMD answer a request of the wrong size and
 * QEMU answers an unknown command. INVALID_PARAMETER is for handlers that
 * find a bad value inside a well-formed request. (STYLE.md section 3.4 names
 * INVALID_PARAMETER for a short request; the code and security.md say
 * UNSPEC.) *ret_desc stays untouched (STYLE.md section 3.10).
 */
static void check_refused(gpu_resp_t resp, const struct gpu_cmd_desc *const *ret_desc)
{
	CHECK_EQ(resp, VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK(*ret_desc == &untouched);
}

/* Refused after reading the header: the header is known (the error echoes the fence). */
static void check_refused_after_header(gpu_resp_t resp, const struct gpu_cmd *cmd,
	const struct gpu_cmd_desc *const *ret_desc, uint32_t type)
{
	check_refused(resp, ret_desc);
	CHECK_EQ(cmd->hdr.type, type);
	CHECK_EQ(cmd->hdr.flags, HDR_FLAGS);
	CHECK_EQ(cmd->hdr.fence_id, HDR_FENCE(type));
	CHECK_EQ(cmd->hdr.ctx_id, HDR_CTX(type));
	/* nothing past the header was copied out */
	CHECK(spy_bytes_read() <= HDR_SIZE);
}

/*
 * Refused from the header and the table alone (type, queue, feature, size):
 * the body is not even tried, rather than left to fail at the end of the chain.
 */
static void check_only_header_read(void)
{
	CHECK_EQ(spy.n, 1);
	CHECK_EQ(spy.reads[0].offset, 0);
	CHECK_EQ(spy.reads[0].len, HDR_SIZE);
}

/* Refused without a header: nothing of a previous command may be echoed. */
static void check_refused_no_header(gpu_resp_t resp, const struct gpu_cmd *cmd,
	const struct gpu_cmd_desc *const *ret_desc)
{
	static const struct virtio_gpu_ctrl_hdr zero;

	check_refused(resp, ret_desc);
	CHECK(memcmp(&cmd->hdr, &zero, sizeof(zero)) == 0);
}

/* The expected entry of a type, or NULL. */
static const struct expect *expect_of(uint32_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (cmds[i].type == type) {
			return &cmds[i];
		}
	}
	return NULL;
}

static unsigned int other_queue(unsigned int q)
{
	return q == GPU_QUEUE_CTRL ? GPU_QUEUE_CURSOR : GPU_QUEUE_CTRL;
}

/* ---- the table ---- */

static void test_table_entries(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct expect *e = &cmds[i];
		const struct gpu_cmd_desc *d = gpu_cmd_lookup(e->type);

		snprintf(ctx, sizeof(ctx), "%s", e->name);
		CHECK(d != NULL);
		CHECK(strcmp(d->name, e->name) == 0);
		CHECK_EQ(d->size, e->size);
		CHECK_EQ(d->queues, 1u << e->queue);
		CHECK_EQ(d->feature, e->feature);
		CHECK(d->handle == e->handle);
		/* the copy must fit the request union */
		CHECK(d->size >= HDR_SIZE && d->size <= sizeof(((struct gpu_cmd *)0)->req));
	}
}


static void test_table_no_other_types(void **state)
{
	unsigned int found = 0;

	/* every type of the first four groups, and the odd ones */
	for (uint32_t t = 0; t < 0x500; t++) {
		snprintf(ctx, sizeof(ctx), "type 0x%x", t);
		CHECK_EQ(gpu_cmd_lookup(t) != NULL, expect_of(t) != NULL);
		found += gpu_cmd_lookup(t) != NULL;
	}
	CHECK_EQ(found, ARRAY_SIZE(cmds));
	for (size_t i = 0; i < ARRAY_SIZE(unknown_types); i++) {
		snprintf(ctx, sizeof(ctx), "type 0x%x", unknown_types[i]);
		CHECK(gpu_cmd_lookup(unknown_types[i]) == NULL);
	}
}

/* ---- decoding every command ---- */

static void test_decode_exact_size(void **state)
{
	struct fixture *f = *state;
	uint8_t req[REQ_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct expect *e = &cmds[i];
		const struct gpu_cmd_desc *desc;
		struct vu_elem *elem;
		struct gpu_cmd cmd;
		gpu_resp_t resp;

		snprintf(ctx, sizeof(ctx), "%s, %u bytes", e->name, e->size);
		make_request(req, sizeof(req), e->type);
		elem = post(f, req, e->size);
		resp = decode(f, elem, e->queue, ALL_FEATURES, &cmd, &desc);
		check_decoded(e, req, resp, &cmd, &desc, e->queue, elem);
		free(elem);
	}
}

static void test_decode_header_host_endian(void **state)
{
	struct fixture *f = *state;
	/* SET_SCANOUT (0x0103) as raw little-endian bytes, every header byte distinct */
	static const uint8_t wire[48] = {
		0x03, 0x01, 0x00, 0x00,                         /* type */
		0x03, 0x00, 0x00, 0x00,                         /* flags: FENCE | INFO_RING_IDX */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* fence_id */
		0x44, 0x33, 0x22, 0x11,                         /* ctx_id */
		0x07, 0xaa, 0xbb, 0xcc,                         /* ring_idx, padding */
		0x10, 0x00, 0x00, 0x00,                         /* r.x ... (left little-endian) */
	};
	const struct gpu_cmd_desc *desc;
	struct vu_elem *elem = post(f, wire, sizeof(wire));
	struct gpu_cmd cmd;

	snprintf(ctx, sizeof(ctx), "raw SET_SCANOUT");
	CHECK_EQ(decode(f, elem, GPU_QUEUE_CTRL, 0, &cmd, &desc), 0);
	CHECK(desc == gpu_cmd_lookup(VIRTIO_GPU_CMD_SET_SCANOUT));
	CHECK_EQ(cmd.hdr.type, VIRTIO_GPU_CMD_SET_SCANOUT);
	CHECK_EQ(cmd.hdr.flags, VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
	CHECK_EQ(cmd.hdr.fence_id, UINT64_C(0x0102030405060708));
	CHECK_EQ(cmd.hdr.ctx_id, 0x11223344u);
	CHECK_EQ(cmd.hdr.ring_idx, 7);
	/* the request copy stays the wire bytes: handlers convert their own fields */
	CHECK(memcmp(cmd.req.bytes, wire, sizeof(wire)) == 0);
	free(elem);
}

static void test_decode_one_byte_short(void **state)
{
	struct fixture *f = *state;
	uint8_t req[REQ_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct expect *e = &cmds[i];
		const struct gpu_cmd_desc *desc;
		struct vu_elem *elem;
		struct gpu_cmd cmd;
		gpu_resp_t resp;

		snprintf(ctx, sizeof(ctx), "%s, %u bytes", e->name, e->size - 1);
		make_request(req, sizeof(req), e->type);
		elem = post(f, req, e->size - 1);
		resp = decode(f, elem, e->queue, ALL_FEATURES, &cmd, &desc);
		if (e->size - 1 < HDR_SIZE) {
			/* GET_DISPLAY_INFO, CTX_DESTROY: not even a header */
			check_refused_no_header(resp, &cmd, &desc);
			CHECK_EQ(spy.n, 0);
		} else {
			check_refused_after_header(resp, &cmd, &desc, e->type);
			check_only_header_read();
		}
		free(elem);
	}
}

static void test_decode_no_header(void **state)
{
	struct fixture *f = *state;
	static const size_t lengths[] = { 0, 1, 4, HDR_SIZE - 1 };
	uint8_t req[REQ_MAX];

	make_request(req, sizeof(req), VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
		const struct gpu_cmd_desc *desc;
		struct vu_elem *elem = post(f, req, lengths[i]);
		struct gpu_cmd cmd;

		snprintf(ctx, sizeof(ctx), "%zu-byte request", lengths[i]);
		check_refused_no_header(decode(f, elem, GPU_QUEUE_CTRL, ALL_FEATURES, &cmd, &desc),
			&cmd, &desc);
		CHECK_EQ(spy.n, 0);
		free(elem);
	}
}

static void test_decode_trailing_bytes(void **state)
{
	struct fixture *f = *state;
	static const size_t extra[] = { 1, 16, 4096 };
	uint8_t req[REQ_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(extra); j++) {
			const struct expect *e = &cmds[i];
			const struct gpu_cmd_desc *desc;
			struct vu_elem *elem;
			struct gpu_cmd cmd;
			gpu_resp_t resp;

			snprintf(ctx, sizeof(ctx), "%s + %zu bytes", e->name, extra[j]);
			make_request(req, sizeof(req), e->type);
			elem = post(f, req, e->size + extra[j]);
			resp = decode(f, elem, e->queue, ALL_FEATURES, &cmd, &desc);
			check_decoded(e, req, resp, &cmd, &desc, e->queue, elem);
			free(elem);
		}
	}
}

/* ATTACH_BACKING's entries and SUBMIT_3D's stream follow the struct; the handlers copy them. */
static void test_decode_variable_length(void **state)
{
	struct fixture *f = *state;
	uint8_t req[REQ_MAX];
	const struct gpu_cmd_desc *desc;
	struct vu_elem *elem;
	struct gpu_cmd cmd;
	size_t len;

	snprintf(ctx, sizeof(ctx), "ATTACH_BACKING with 3 entries");
	make_request(req, sizeof(req), VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
	put_le32(req + 24, 1);  /* resource_id */
	put_le32(req + 28, 3);  /* nr_entries */
	len = 32 + 3 * sizeof(struct virtio_gpu_mem_entry);
	elem = post_cut(f, req, len, 16, false); /* header and each entry in its own buffer */
	check_decoded(expect_of(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), req,
		decode(f, elem, GPU_QUEUE_CTRL, 0, &cmd, &desc), &cmd, &desc, GPU_QUEUE_CTRL, elem);
	CHECK_EQ(le32toh(cmd.req.attach_backing.nr_entries), 3);
	CHECK_EQ(elem->out_len, len);
	free(elem);

	snprintf(ctx, sizeof(ctx), "SUBMIT_3D with a 4 KiB stream");
	make_request(req, sizeof(req), VIRTIO_GPU_CMD_SUBMIT_3D);
	put_le32(req + 24, 4096); /* size */
	len = 32 + 4096;
	elem = post(f, req, len);
	check_decoded(expect_of(VIRTIO_GPU_CMD_SUBMIT_3D), req,
		decode(f, elem, GPU_QUEUE_CTRL, UINT64_C(1) << VIRTIO_GPU_F_VIRGL, &cmd, &desc),
		&cmd, &desc, GPU_QUEUE_CTRL, elem);
	CHECK_EQ(le32toh(cmd.req.submit.size), 4096);
	free(elem);
}

static void test_decode_wrong_queue(void **state)
{
	struct fixture *f = *state;
	/* the other queue, and one the device does not have */
	uint8_t req[REQ_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct expect *e = &cmds[i];
		const unsigned int queues[] = { other_queue(e->queue), GPU_NUM_QUEUES };

		for (size_t j = 0; j < ARRAY_SIZE(queues); j++) {
			const struct gpu_cmd_desc *desc;
			struct vu_elem *elem;
			struct gpu_cmd cmd;
			gpu_resp_t resp;

			snprintf(ctx, sizeof(ctx), "%s on queue %u", e->name, queues[j]);
			make_request(req, sizeof(req), e->type);
			elem = post(f, req, e->size);
			resp = decode(f, elem, queues[j], ALL_FEATURES, &cmd, &desc);
			check_refused_after_header(resp, &cmd, &desc, e->type);
			check_only_header_read();
			free(elem);
		}
	}
}

static void test_decode_feature_not_acked(void **state)
{
	struct fixture *f = *state;
	uint8_t req[REQ_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct expect *e = &cmds[i];
		uint64_t bit = e->feature == NO_FEATURE ? 0 : UINT64_C(1) << e->feature;
		const struct {
			uint64_t features;
			bool ok;
		} cases[] = {
			{ 0, e->feature == NO_FEATURE },
			{ ALL_FEATURES & ~bit, e->feature == NO_FEATURE },
			/* the bit number used as a mask (STYLE.md section 4.3) must not do */
			{ e->feature == NO_FEATURE ? 0 : (uint64_t)e->feature,
				e->feature == NO_FEATURE },
			{ bit, true },
			{ ALL_FEATURES, true },
		};

		for (size_t j = 0; j < ARRAY_SIZE(cases); j++) {
			const struct gpu_cmd_desc *desc;
			struct vu_elem *elem;
			struct gpu_cmd cmd;
			gpu_resp_t resp;

			snprintf(ctx, sizeof(ctx), "%s with features 0x%llx", e->name,
				(unsigned long long)cases[j].features);
			make_request(req, sizeof(req), e->type);
			elem = post(f, req, e->size);
			resp = decode(f, elem, e->queue, cases[j].features, &cmd, &desc);
			if (cases[j].ok) {
				check_decoded(e, req, resp, &cmd, &desc, e->queue, elem);
			} else {
				check_refused_after_header(resp, &cmd, &desc, e->type);
				check_only_header_read();
			}
			free(elem);
		}
	}
}

static void test_decode_unknown_type(void **state)
{
	struct fixture *f = *state;
	uint8_t req[REQ_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(unknown_types); i++) {
		for (unsigned int q = 0; q < GPU_NUM_QUEUES; q++) {
			const struct gpu_cmd_desc *desc;
			struct vu_elem *elem;
			struct gpu_cmd cmd;
			gpu_resp_t resp;

			snprintf(ctx, sizeof(ctx), "type 0x%x on queue %u", unknown_types[i], q);
			make_request(req, sizeof(req), unknown_types[i]);
			elem = post(f, req, 128);
			resp = decode(f, elem, q, ALL_FEATURES, &cmd, &desc);
			check_refused_after_header(resp, &cmd, &desc, unknown_types[i]);
			check_only_header_read();
			free(elem);
		}
	}
}

/* ---- the same requests through other chain shapes ---- */

static void test_decode_split(void **state)
{
	struct fixture *f = *state;
	uint8_t req[REQ_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct expect *e = &cmds[i];

		make_request(req, sizeof(req), e->type);
		/* one byte per descriptor, then three-byte and header-sized pieces */
		for (size_t piece = 1; piece <= 24; piece += piece == 1 ? 2 : 21) {
			for (int indirect = 0; indirect <= 1; indirect++) {
				const struct gpu_cmd_desc *desc;
				struct vu_elem *elem;
				struct gpu_cmd cmd;

				snprintf(ctx, sizeof(ctx), "%s in %zu-byte pieces%s", e->name,
					piece, indirect ? ", indirect" : "");
				elem = post_cut(f, req, e->size, piece, indirect);
				check_decoded(e, req,
					decode(f, elem, e->queue, ALL_FEATURES, &cmd, &desc), &cmd,
					&desc, e->queue, elem);
				free(elem);
			}
		}
		/* two pieces, cut at every offset */
		for (size_t cut = 1; cut < e->size; cut++) {
			const size_t pieces[2] = { cut, e->size - cut };
			const struct gpu_cmd_desc *desc;
			struct vu_elem *elem;
			struct gpu_cmd cmd;

			snprintf(ctx, sizeof(ctx), "%s cut at %zu", e->name, cut);
			elem = post_pieces(f, req, pieces, 2, cut % 2);
			check_decoded(e, req, decode(f, elem, e->queue, ALL_FEATURES, &cmd, &desc),
				&cmd, &desc, e->queue, elem);
			free(elem);
		}
	}
}

static void test_decode_empty_buffers(void **state)
{
	struct fixture *f = *state;
	const struct expect *e = expect_of(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D);
	const size_t pieces[] = { 0, 10, 0, 0, 20, 0, 26, 0 };
	uint8_t req[REQ_MAX];

	assert_non_null(e);
	make_request(req, sizeof(req), e->type);
	for (int indirect = 0; indirect <= 1; indirect++) {
		const struct gpu_cmd_desc *desc;
		struct vu_elem *elem = post_pieces(f, req, pieces, ARRAY_SIZE(pieces), indirect);
		struct gpu_cmd cmd;

		snprintf(ctx, sizeof(ctx), "%s with empty buffers%s", e->name,
			indirect ? ", indirect" : "");
		check_decoded(e, req, decode(f, elem, e->queue, 0, &cmd, &desc), &cmd, &desc,
			e->queue, elem);
		free(elem);
	}
}

/* One buffer that crosses from one memory region into the next. */
static void test_decode_across_regions(void **state)
{
	struct fixture *f = *state;
	const struct expect *e = expect_of(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D); /* 72 bytes */
	const uint64_t gpa = RAM2_GPA - 30;
	struct vu_mem_region r2 = test_guest_mem_region(&f->g2);
	const struct gpu_cmd_desc *desc;
	struct vu_elem *popped;
	struct gpu_cmd cmd;
	uint8_t req[REQ_MAX];

	assert_non_null(e);
	snprintf(ctx, sizeof(ctx), "%s across two regions", e->name);
	make_request(req, sizeof(req), e->type);
	memcpy(test_gpa(&f->g, gpa), req, 30);
	memcpy(test_gpa(&f->g2, RAM2_GPA), req + 30, e->size - 30);

	test_ring_set_desc(&f->ring, 0, gpa, e->size, VRING_DESC_F_NEXT, 1);
	test_ring_set_desc(&f->ring, 1, RESP_GPA, RESP_LEN, VRING_DESC_F_WRITE, 0);
	test_ring_publish(&f->ring, 0);
	assert_int_equal(vu_vring_pop(&f->vq, &popped), 1);
	check_decoded(e, req, decode(f, popped, e->queue, ALL_FEATURES, &cmd, &desc), &cmd, &desc,
		e->queue, popped);

	/*
	 * The frontend removes the second region while the element is held (a
	 * fenced command keeps its chain): the element's addresses are translated
	 * again and the part now outside guest memory is refused, not read.
	 */
	snprintf(ctx, sizeof(ctx), "%s after its second region went away", e->name);
	assert_int_equal(vu_mem_remove(&f->mem, &r2), 0);
	check_refused_after_header(decode(f, popped, e->queue, ALL_FEATURES, &cmd, &desc), &cmd,
		&desc, e->type);
	free(popped);
}

/* Buffers partly or wholly outside guest memory: refused, and the guard pages stay untouched. */
static void test_decode_outside_memory(void **state)
{
	struct fixture *f = *state;
	const struct expect *e = expect_of(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D); /* 40 bytes */
	uint8_t req[REQ_MAX];
	const struct {
		const char *what;
		struct vu_buf bufs[2];
		unsigned int n;
		bool header_inside;
	} cases[] = {
		{ "header across the end of RAM", { { RAM_SIZE - 8, 40 } }, 1, false },
		{ "body across the end of RAM", { { RAM_SIZE - 30, 40 } }, 1, true },
		{ "wholly past the end of RAM", { { RAM_SIZE, 40 } }, 1, false },
		{ "far past RAM", { { UINT64_C(1) << 40, 40 } }, 1, false },
		{ "address wrapping around", { { UINT64_MAX - 15, 40 } }, 1, false },
		{ "second buffer outside", { { DATA_GPA, 24 }, { RAM_SIZE + 0x1000, 16 } }, 2,
			true },
		{ "second buffer across the end", { { DATA_GPA, 24 }, { RAM_SIZE - 8, 16 } }, 2,
			true },
	};

	assert_non_null(e);
	make_request(req, sizeof(req), e->type);
	memcpy(test_gpa(&f->g, DATA_GPA), req, 24);
	memcpy(test_gpa(&f->g, RAM_SIZE - 30), req, 30);
	memcpy(test_gpa(&f->g, RAM_SIZE - 8), req, 8);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vu_elem *elem = elem_of(cases[i].bufs, cases[i].n);
		const struct gpu_cmd_desc *desc;
		struct gpu_cmd cmd;
		gpu_resp_t resp;

		snprintf(ctx, sizeof(ctx), "%s: %s", e->name, cases[i].what);
		CHECK_EQ(elem->out_len, e->size);
		resp = decode(f, elem, e->queue, ALL_FEATURES, &cmd, &desc);
		if (cases[i].header_inside) {
			check_refused_after_header(resp, &cmd, &desc, e->type);
		} else {
			check_refused_no_header(resp, &cmd, &desc);
		}
		free(elem);
	}
}

/* ---- one copy: a guest rewriting its request meanwhile cannot split what we check from what
 * handlers see ---- */

struct race {
	struct fixture *f;
	uint64_t gpa; /* the request in guest RAM */
	size_t len;
	uint32_t new_type;
};

static void race_rewrite(void *data)
{
	struct race *r = data;
	uint8_t *p = test_gpa(&r->f->g, r->gpa);

	/* another valid command, other flags, fence and context, another body */
	for (size_t i = HDR_SIZE; i < r->len; i++) {
		p[i] ^= 0xff;
	}
	put_le32(p + 0, r->new_type);
	put_le32(p + 4, 0);
	put_le64(p + 8, UINT64_C(0xdeadbeefdeadbeef));
	put_le32(p + 16, 0xbad);
}

static void test_decode_reads_guest_once(void **state)
{
	struct fixture *f = *state;
	uint8_t req[REQ_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct expect *e = &cmds[i];
		struct race race = { f, DATA_GPA + 16, e->size + 8,
			e->type == VIRTIO_GPU_CMD_CTX_CREATE ? VIRTIO_GPU_CMD_GET_DISPLAY_INFO
							     : VIRTIO_GPU_CMD_CTX_CREATE };
		struct virtio_gpu_ctrl_hdr wire;
		const struct gpu_cmd_desc *desc;
		unsigned int count[REQ_MAX] = { 0 };
		struct vu_elem *elem;
		struct gpu_cmd cmd;

		snprintf(ctx, sizeof(ctx), "%s rewritten during decode", e->name);
		make_request(req, sizeof(req), e->type);
		/* with trailing bytes, which must not be read either; post() puts it at DATA_GPA + 16 */
		elem = post(f, req, e->size + 8);
		spy.race = race_rewrite;
		spy.race_data = &race;
		CHECK_EQ(decode(f, elem, e->queue, ALL_FEATURES, &cmd, &desc), 0);
		spy.race = NULL;

		/* the command checked is the command copied */
		CHECK(desc == gpu_cmd_lookup(e->type));
		CHECK_EQ(cmd.hdr.type, e->type);
		CHECK_EQ(cmd.hdr.fence_id, HDR_FENCE(e->type));
		wire = cmd.hdr;
		wire.type = htole32(wire.type);
		wire.flags = htole32(wire.flags);
		wire.fence_id = htole64(wire.fence_id);
		wire.ctx_id = htole32(wire.ctx_id);
		CHECK(memcmp(&cmd.req.hdr, &wire, sizeof(wire)) == 0);

		/* every byte of the request read once, none twice, none past it */
		CHECK(spy.n <= SPY_MAX);
		for (unsigned int r = 0; r < spy.n; r++) {
			CHECK_EQ(spy.reads[r].ret, 0);
			for (size_t b = 0; b < spy.reads[r].len; b++) {
				count[spy.reads[r].offset + b]++;
			}
		}
		for (size_t b = 0; b < e->size + 8; b++) {
			snprintf(ctx, sizeof(ctx), "%s: byte %zu", e->name, b);
			CHECK_EQ(count[b], b < e->size ? 1 : 0);
		}
		free(elem);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_entries),
		cmocka_unit_test(test_table_no_other_types),
		cmocka_unit_test_setup_teardown(test_decode_exact_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_header_host_endian, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_one_byte_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_no_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_trailing_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_variable_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_wrong_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_feature_not_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_unknown_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_empty_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_across_regions, setup_two_regions,
			teardown),
		cmocka_unit_test_setup_teardown(test_decode_outside_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_reads_guest_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
