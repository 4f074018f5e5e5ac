/* SPDX-License-Identifier: MIT */
/*
 * The 3D (VIRGL) command set against the real daemon in virglrenderer mode
 * (Mesa llvmpipe through EGL surfaceless): features and capsets, contexts,
 * 3D resources and transfers, SUBMIT_3D, the 2D path and the cursor through
 * virglrenderer, memory-table changes and repeated errors. Fences, rings,
 * stops and reconnects are in test-3d-fences.c; shared helpers in it3d.c.
 *
 * Every response type is checked exactly; responses are read from guest
 * RAM that was filled with 0xAA first, so every byte the daemon wrote (and
 * did not write) is visible (CVE-2021-3545 and CVE-2021-3546 regressions).
 *
 * Usage: test-3d path/to/vhost-device-gpu
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "it3d.h"

/* gallium / virgl values (virglrenderer 0.10.4 src/virgl_hw.h, virgl_protocol.h) */
#define PIPE_BUFFER 0
#define VIRGL_CCMD_NOP 0

/* The daemon's documented limits (src/virtio-gpu/gpu-priv.h, src/vhost-user/vu-vring.h). */
#define MAX_CONTEXTS 1024u
#define MAX_SUBMIT_SIZE (4u << 20)
#define CANARY_LEN 64

/*
 * Submits req with a writable buffer of cap bytes poisoned with 0xAA, waits,
 * and copies the whole buffer (written or not) into out. Returns the used
 * length, or fails the test.
 */
static uint32_t exec_poisoned(
        struct vdgfe *fe, const void *req, size_t len, uint8_t *out, size_t cap)
{
	struct vdgfe_submit_opts opts = {.no_kick = true};
	struct vdgfe_cmd *cmd = NULL;
	uint32_t used;

	assert_int_equal(vdgfe_gpu_submit(fe, VDGFE_CTRLQ, req, len, cap, &opts, &cmd), 0);
	if (cap) {
		assert_int_equal(vdgfe_mem_fill(fe, cmd->resp_gpa, POISON, cap), 0);
	}
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait(fe, cmd, ITEST_TIMEOUT_MS), 0);
	if (cap) {
		assert_int_equal(vdgfe_mem_read(fe, cmd->resp_gpa, out, cap), 0);
	}
	used = cmd->used_len;
	vdgfe_cmd_free(fe, cmd);
	return used;
}

/* A non-fenced response header: type, then 20 zero bytes. */
static void assert_plain_hdr(const uint8_t *p, uint32_t type)
{
	assert_int_equal(le32_at(p), type);
	for (unsigned int i = 4; i < 24; i++) {
		assert_int_equal(p[i], 0);
	}
}

static int transfer(
        struct vdgfe *fe, uint32_t type, uint32_t ctx, uint32_t res, const struct xfer *t)
{
	struct virtio_gpu_transfer_host_3d req;

	transfer_req(&req, type, ctx, res, t, false, 0);
	return itest_exec(fe, VDGFE_CTRLQ, &req, sizeof(req));
}

static int submit(struct vdgfe *fe, uint32_t ctx, uint32_t size_field, const uint32_t *words,
        size_t nwords, size_t sent)
{
	size_t len;
	void *req = submit_req(ctx, size_field, words, nwords, sent, false, 0, &len);
	int r = itest_exec(fe, VDGFE_CTRLQ, req, len);

	free(req);
	return r;
}

static int submit_stream(struct vdgfe *fe, uint32_t ctx, const uint32_t *words, size_t n)
{
	return submit(fe, ctx, (uint32_t)(n * 4), words, n, n * 4);
}

/* ---- features and capsets ----------------------------------------------------------- */

static uint32_t config_num_capsets(struct vdgfe *fe)
{
	struct virtio_gpu_config cfg;

	assert_int_equal(vdgfe_get_config(fe, 0, &cfg, sizeof(cfg)), 0);
	return le32toh(cfg.num_capsets);
}

static void test_features_and_num_capsets(void **state)
{
	struct vdgfe *fe = fe_virgl();

	(void)state;
	assert_true(vu_has_bit(fe->backend_features, GPU_F_VIRGL));
	assert_int_equal(config_num_capsets(fe), 2);
}

/* A second daemon with --capset virgl2: one capset, id 2 at index 0. */
static void test_capset_option(void **state)
{
	static const char *const args[] = {
	        "--gpu-mode", "virglrenderer", "--capset", "virgl2", NULL};
	struct itest_daemon d;
	struct vdgfe_config cfg;
	struct virtio_gpu_get_capset_info req;
	struct virtio_gpu_config gcfg;
	uint8_t resp[40];
	struct vdgfe *fe;
	int stop;

	(void)state;
	assert_int_equal(itest_daemon_start(&d, itest_bin, args), 0);
	vdgfe_config_init(&cfg);
	cfg.socket_path = d.sock;
	cfg.timeout_ms = ITEST_TIMEOUT_MS;
	cfg.want_virgl = true;
	fe = vdgfe_create(&cfg);
	assert_non_null(fe);
	assert_int_equal(vdgfe_negotiate(fe), 0);
	assert_int_equal(vdgfe_start(fe), 0);
	assert_int_equal(vdgfe_get_config(fe, 0, &gcfg, sizeof(gcfg)), 0);
	assert_int_equal(le32toh(gcfg.num_capsets), 1);

	memset(&req, 0, sizeof(req));
	hdr_init(&req.hdr, VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0, false, 0);
	assert_int_equal(
	        vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req), resp, sizeof(resp), NULL),
	        VIRTIO_GPU_RESP_OK_CAPSET_INFO);
	assert_int_equal(le32_at(resp + 24), VIRTIO_GPU_CAPSET_VIRGL2);
	req.capset_index = htole32(1);
	assert_int_equal(
	        vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req), resp, sizeof(resp), NULL),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	vdgfe_destroy(fe);
	stop = itest_daemon_stop(&d);
	assert_int_equal(stop, 0);
}

struct capset {
	uint32_t id, max_version, max_size;
};

static void get_capset_info(struct vdgfe *fe, uint32_t index, struct capset *ret)
{
	struct virtio_gpu_get_capset_info req;
	uint8_t resp[64];
	uint32_t used;

	memset(&req, 0, sizeof(req));
	hdr_init(&req.hdr, VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0, false, 0);
	req.capset_index = htole32(index);
	used = exec_poisoned(fe, &req, sizeof(req), resp, sizeof(resp));
	assert_int_equal(used, sizeof(struct virtio_gpu_resp_capset_info));
	assert_plain_hdr(resp, VIRTIO_GPU_RESP_OK_CAPSET_INFO);
	ret->id = le32_at(resp + 24);
	ret->max_version = le32_at(resp + 28);
	ret->max_size = le32_at(resp + 32);
	/* padding is zero, nothing past the struct is touched (CVE-2021-3545) */
	assert_int_equal(le32_at(resp + 36), 0);
	assert_poison(resp + 40, sizeof(resp) - 40);
}

static void test_get_capset_info(void **state)
{
	static const uint32_t bad[] = {2, 3, 0x100, 0xffffffffu};
	struct vdgfe *fe = fe_virgl();
	struct capset c0, c1;

	(void)state;
	get_capset_info(fe, 0, &c0);
	get_capset_info(fe, 1, &c1);
	assert_int_equal(c0.id, VIRTIO_GPU_CAPSET_VIRGL);
	assert_int_equal(c1.id, VIRTIO_GPU_CAPSET_VIRGL2);
	assert_true(c0.max_version >= 1);
	assert_true(c1.max_version >= 1);
	assert_true(c0.max_size > 0 && c0.max_size <= (64u << 10));
	assert_true(c1.max_size > 0 && c1.max_size <= (64u << 10));
	/* virgl2 is the v1 caps and more */
	assert_true(c1.max_size >= c0.max_size);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_gpu_get_capset_info req;
		uint8_t resp[64];

		memset(&req, 0, sizeof(req));
		hdr_init(&req.hdr, VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0, false, 0);
		req.capset_index = htole32(bad[i]);
		assert_int_equal(exec_poisoned(fe, &req, sizeof(req), resp, sizeof(resp)), 24);
		assert_plain_hdr(resp, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		assert_poison(resp + 24, sizeof(resp) - 24);
	}
}

static void capset_req(struct virtio_gpu_get_capset *req, uint32_t id, uint32_t version)
{
	memset(req, 0, sizeof(*req));
	hdr_init(&req->hdr, VIRTIO_GPU_CMD_GET_CAPSET, 0, false, 0);
	req->capset_id = htole32(id);
	req->capset_version = htole32(version);
}

static void test_get_capset(void **state)
{
	struct vdgfe *fe = fe_virgl();
	struct capset cs[2];

	(void)state;
	get_capset_info(fe, 0, &cs[0]);
	get_capset_info(fe, 1, &cs[1]);
	for (unsigned int i = 0; i < 2; i++) {
		for (uint32_t ver = 0; ver <= cs[i].max_version; ver++) {
			struct virtio_gpu_get_capset req;
			size_t cap = 24 + cs[i].max_size + CANARY_LEN;
			uint8_t *resp = malloc(cap);

			assert_non_null(resp);
			capset_req(&req, cs[i].id, ver);
			assert_int_equal(exec_poisoned(fe, &req, sizeof(req), resp, cap),
			        24 + cs[i].max_size);
			assert_plain_hdr(resp, VIRTIO_GPU_RESP_OK_CAPSET);
			/* struct virgl_caps_v1/v2 start with max_version: 1 for virgl, 2 for virgl2
			 */
			assert_int_equal(le32_at(resp + 24), cs[i].id);
			assert_poison(resp + 24 + cs[i].max_size, CANARY_LEN);
			free(resp);
		}
	}

	/* unknown id, id 0, version above the maximum */
	const struct {
		uint32_t id, version;
	} bad[] = {
	        {0, 0},
	        {3, 0},
	        {4, 0},
	        {0xffffffffu, 0},
	        {VIRTIO_GPU_CAPSET_VIRGL, cs[0].max_version + 1},
	        {VIRTIO_GPU_CAPSET_VIRGL2, cs[1].max_version + 1},
	        {VIRTIO_GPU_CAPSET_VIRGL2, 0xffffffffu},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct virtio_gpu_get_capset req;
		uint8_t resp[64];

		capset_req(&req, bad[i].id, bad[i].version);
		assert_int_equal(exec_poisoned(fe, &req, sizeof(req), resp, sizeof(resp)), 24);
		assert_plain_hdr(resp, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		assert_poison(resp + 24, sizeof(resp) - 24);
	}
}

/*
 * GET_CAPSET with a writable buffer of only cap bytes, followed in guest RAM
 * by a canary: the daemon may write at most cap bytes (CVE-2021-3546).
 */
static void capset_small_buffer(struct vdgfe *fe, uint32_t id, uint32_t cap)
{
	struct vdgfe_gpu *gpu = vdgfe_gpu(fe);
	struct virtio_gpu_get_capset req;
	struct vdgfe_buf out, in;
	struct vdgfe_cmd *cmd = calloc(1, sizeof(*cmd));
	uint8_t block[64 + CANARY_LEN];
	uint64_t block_gpa = 0;
	int head;

	assert_non_null(gpu);
	assert_non_null(cmd);
	assert_true(cap <= 64);
	capset_req(&req, id, 0);
	assert_int_equal(vdgfe_mem_alloc(fe, sizeof(req), 16, 0, &cmd->req_gpa), 0);
	assert_int_equal(vdgfe_mem_write(fe, cmd->req_gpa, &req, sizeof(req)), 0);
	assert_int_equal(
	        vdgfe_mem_alloc(fe, cap + CANARY_LEN, 16, VDGFE_MEM_CONTIG, &block_gpa), 0);
	assert_int_equal(vdgfe_mem_fill(fe, block_gpa, POISON, cap + CANARY_LEN), 0);
	cmd->queue = VDGFE_CTRLQ;
	cmd->req_len = sizeof(req);
	out = (struct vdgfe_buf){cmd->req_gpa, sizeof(req)};
	in = (struct vdgfe_buf){block_gpa, cap};
	head = vdgfe_vq_add(fe, &fe->vqs[VDGFE_CTRLQ], &out, 1, &in, cap ? 1 : 0, 0, cmd);
	assert_true(head >= 0);
	cmd->head = head;
	cmd->submit_seq = ++gpu->submitted;
	cmd->next_pending = gpu->pending;
	gpu->pending = cmd;
	assert_true(vdgfe_vq_kick(&fe->vqs[VDGFE_CTRLQ], false) >= 0);
	assert_int_equal(vdgfe_gpu_wait(fe, cmd, ITEST_TIMEOUT_MS), 0);

	assert_true(cmd->used_len <= cap);
	assert_int_equal(vdgfe_mem_read(fe, block_gpa, block, cap + CANARY_LEN), 0);
	assert_poison(block + cap, CANARY_LEN);
	if (cap >= 24) {
		/* what fits of the answer: a header saying OK_CAPSET (or an error) */
		uint32_t type = le32_at(block);

		assert_true(type == VIRTIO_GPU_RESP_OK_CAPSET ||
		            type == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER ||
		            type == VIRTIO_GPU_RESP_ERR_UNSPEC);
		assert_int_equal(cmd->used_len, type == VIRTIO_GPU_RESP_OK_CAPSET ? cap : 24);
	} else {
		assert_int_equal(cmd->used_len, cap);
	}
	vdgfe_mem_free(fe, cmd->req_gpa, sizeof(req));
	vdgfe_mem_free(fe, block_gpa, cap + CANARY_LEN);
	free(cmd);
}

static void test_get_capset_small_buffer(void **state)
{
	static const uint32_t caps[] = {40, 24, 23, 1, 0};
	struct vdgfe *fe = fe_virgl();

	(void)state;
	for (unsigned int id = VIRTIO_GPU_CAPSET_VIRGL; id <= VIRTIO_GPU_CAPSET_VIRGL2; id++) {
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			capset_small_buffer(fe, id, caps[i]);
		}
	}
	assert_daemon_answers(fe);
}

/* ---- contexts ----------------------------------------------------------------------- */

static void test_ctx_create_destroy(void **state)
{
	struct vdgfe *fe = fe_virgl();
	char name[64];

	(void)state;
	assert_int_equal(ctx_create(fe, 0), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	/* a name without its terminator and nlen far beyond the array: clamped */
	memset(name, 'n', sizeof(name));
	assert_int_equal(ctx_create_named(fe, 2, 0xffffffffu, NULL), VIRTIO_GPU_RESP_OK_NODATA);
	{
		struct virtio_gpu_ctx_create req;

		memset(&req, 0, sizeof(req));
		hdr_init(&req.hdr, VIRTIO_GPU_CMD_CTX_CREATE, 3, false, 0);
		req.nlen = htole32(65);
		memcpy(req.debug_name, name, sizeof(req.debug_name));
		assert_int_equal(
		        itest_exec(fe, VDGFE_CTRLQ, &req, sizeof(req)), VIRTIO_GPU_RESP_OK_NODATA);
		req.hdr.ctx_id = htole32(4);
		req.nlen = htole32(64);
		assert_int_equal(
		        itest_exec(fe, VDGFE_CTRLQ, &req, sizeof(req)), VIRTIO_GPU_RESP_OK_NODATA);
	}
	/* the largest id */
	assert_int_equal(ctx_create(fe, 0xffffffffu), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(
	        submit_stream(fe, 0xffffffffu, sub_ctx_stream, 4), VIRTIO_GPU_RESP_OK_NODATA);

	assert_int_equal(ctx_destroy(fe, 0), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	assert_int_equal(ctx_destroy(fe, 77), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	assert_int_equal(ctx_destroy(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_destroy(fe, 1), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	/* a destroyed id is free again, and usable */
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(submit_stream(fe, 1, sub_ctx_stream, 4), VIRTIO_GPU_RESP_OK_NODATA);
	assert_false(itest_daemon_log_contains(&itest_d, "AddressSanitizer"));
}

/* CTX_CREATE (or DESTROY) for ids first..last, batched on the ring; each must answer want. */
static void ctx_batch(struct vdgfe *fe, uint32_t type, uint32_t first, uint32_t last, uint32_t want)
{
	struct vdgfe_submit_opts opts = {.no_kick = true};
	const uint32_t batch = 64;

	for (uint32_t base = first; base <= last; base += batch) {
		struct vdgfe_cmd *cmds[64];
		uint32_t n = last - base + 1 < batch ? last - base + 1 : batch;

		for (uint32_t i = 0; i < n; i++) {
			struct virtio_gpu_ctx_create req;

			memset(&req, 0, sizeof(req));
			hdr_init(&req.hdr, type, base + i, false, 0);
			req.nlen = htole32(3);
			memcpy(req.debug_name, "lim", 3);
			assert_int_equal(
			        vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &req,
			                type == VIRTIO_GPU_CMD_CTX_CREATE ? sizeof(req)
			                                                  : sizeof(req.hdr),
			                24, &opts, &cmds[i]),
			        0);
		}
		assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
		assert_int_equal(vdgfe_gpu_wait_all(fe, 60000), 0);
		for (uint32_t i = 0; i < n; i++) {
			if (vdgfe_cmd_resp_type(fe, cmds[i]) != want) {
				fail_msg("context %u: 0x%x, want 0x%x", base + i,
				        vdgfe_cmd_resp_type(fe, cmds[i]), want);
			}
			vdgfe_cmd_free(fe, cmds[i]);
		}
	}
}

static void test_ctx_limit(void **state)
{
	struct vdgfe *fe = fe_virgl();
	double t0 = now_s(), t1, t2;

	(void)state;
	ctx_batch(fe, VIRTIO_GPU_CMD_CTX_CREATE, 1, MAX_CONTEXTS, VIRTIO_GPU_RESP_OK_NODATA);
	t1 = now_s();
	assert_int_equal(ctx_create(fe, MAX_CONTEXTS + 1), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	/* one destroyed, one more fits; the limit holds again after that */
	assert_int_equal(ctx_destroy(fe, 7), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_create(fe, MAX_CONTEXTS + 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_create(fe, MAX_CONTEXTS + 2), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	assert_int_equal(
	        submit_stream(fe, MAX_CONTEXTS + 1, sub_ctx_stream, 4), VIRTIO_GPU_RESP_OK_NODATA);
	ctx_batch(fe, VIRTIO_GPU_CMD_CTX_DESTROY, 8, MAX_CONTEXTS, VIRTIO_GPU_RESP_OK_NODATA);
	t2 = now_s();
	fprintf(stderr, "test-3d: %u contexts created in %.2f s, all destroyed after %.2f s\n",
	        MAX_CONTEXTS, t1 - t0, t2 - t0);
	/* the rest (1..6, 1025) goes with the connection */
}

static void test_ctx_resource(void **state)
{
	struct vdgfe *fe = fe_virgl();

	(void)state;
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(create_tex(fe, 10, 16, 16), VIRTIO_GPU_RESP_OK_NODATA);
	for (uint32_t type = VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE;
	        type <= VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE; type++) {
		assert_int_equal(
		        ctx_resource(fe, type, 0, 10), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
		assert_int_equal(
		        ctx_resource(fe, type, 2, 10), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
		assert_int_equal(
		        ctx_resource(fe, type, 2, 11), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
		assert_int_equal(
		        ctx_resource(fe, type, 1, 11), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
		assert_int_equal(
		        ctx_resource(fe, type, 1, 0), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	}
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 10),
	        VIRTIO_GPU_RESP_OK_NODATA);
	/* attaching twice and detaching twice are harmless */
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 10),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1, 10),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1, 10),
	        VIRTIO_GPU_RESP_OK_NODATA);
	/* unref of an attached resource, then destroy of the context */
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 10),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 10), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1, 10),
	        VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(create_tex(fe, 12, 16, 16), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 12),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_destroy(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 12), VIRTIO_GPU_RESP_OK_NODATA);
}

/* ---- 3D resources ------------------------------------------------------------------- */

static void test_resource_create_3d(void **state)
{
	struct vdgfe *fe = fe_virgl();
	const struct create_3d tex = {.target = PIPE_TEXTURE_2D,
	        .format = VIRGL_FORMAT_B8G8R8A8_UNORM,
	        .bind = VIRGL_BIND_RENDER_TARGET | VIRGL_BIND_SAMPLER_VIEW,
	        .width = 64,
	        .height = 64,
	        .depth = 1,
	        .array_size = 1};
	struct create_3d c;

	(void)state;
	assert_int_equal(create_3d(fe, 1, &tex), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(create_3d(fe, 1, &tex), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(create_3d(fe, 0, &tex), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* a 2D resource and a 3D one share the id space */
	assert_int_equal(
	        vdgfe_gpu_resource_create_2d(fe, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8),
	        VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* a buffer */
	c = (struct create_3d){.target = PIPE_BUFFER,
	        .format = 64 /* R8_UNORM */,
	        .bind = 1u << 4 /* VERTEX_BUFFER */,
	        .width = 4096,
	        .height = 1,
	        .depth = 1,
	        .array_size = 1};
	assert_int_equal(create_3d(fe, 2, &c), VIRTIO_GPU_RESP_OK_NODATA);
	/* a mip chain */
	c = tex;
	c.last_level = 6;
	assert_int_equal(create_3d(fe, 3, &c), VIRTIO_GPU_RESP_OK_NODATA);

	/* gallium nonsense: virglrenderer refuses, the daemon says INVALID_PARAMETER */
	c = tex;
	c.target = 99;
	assert_int_equal(create_3d(fe, 4, &c), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	c = tex;
	c.format = 9999;
	assert_int_equal(create_3d(fe, 4, &c), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	c = tex;
	c.format = 0;
	assert_int_equal(create_3d(fe, 4, &c), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	c = tex;
	c.depth = 2; /* a 2D texture has depth 1 */
	assert_int_equal(create_3d(fe, 4, &c), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* the refused id was not taken */
	assert_int_equal(create_3d(fe, 4, &tex), VIRTIO_GPU_RESP_OK_NODATA);

	/* w * h * d * array wraps 64 bits: INVALID_PARAMETER before anything is allocated */
	c = tex;
	c.width = c.height = c.depth = c.array_size = 0xffffffffu;
	assert_int_equal(create_3d(fe, 5, &c), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	c.last_level = 31;
	assert_int_equal(create_3d(fe, 5, &c), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* over the 1 GiB host budget (16384 x 16384 x 4 bytes x 4 layers) */
	c = tex;
	c.width = c.height = 16384;
	c.array_size = 4;
	assert_int_equal(create_3d(fe, 5, &c), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	c = tex;
	c.target = PIPE_BUFFER;
	c.width = 0xffffffffu; /* a 16 GiB buffer */
	assert_int_equal(create_3d(fe, 5, &c), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	/* the budget was not consumed by the refusals */
	assert_int_equal(create_3d(fe, 5, &tex), VIRTIO_GPU_RESP_OK_NODATA);

	for (uint32_t id = 1; id <= 5; id++) {
		assert_int_equal(vdgfe_gpu_resource_unref(fe, id), VIRTIO_GPU_RESP_OK_NODATA);
	}
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
}

static void test_transfer_round_trip(void **state)
{
	struct vdgfe *fe = fe_virgl();
	const uint32_t w = 32, h = 16, size = w * h * 4;
	const struct xfer all = {.w = w, .h = h, .d = 1};
	uint8_t *pat = malloc(size), *got = malloc(size);
	uint64_t gpa, gpa2 = 0;

	(void)state;
	assert_non_null(pat);
	assert_non_null(got);
	fill_pattern(pat, size, 3);
	gpa = tex_with_backing(fe, 1, w, h);
	assert_int_equal(vdgfe_mem_write(fe, gpa, pat, size), 0);
	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 0, 1, &all),
	        VIRTIO_GPU_RESP_OK_NODATA);

	/* the backing cleared, the texture read back into it */
	assert_int_equal(vdgfe_mem_fill(fe, gpa, 0, size), 0);
	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 0, 1, &all),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_mem_read(fe, gpa, got, size), 0);
	assert_memory_equal(got, pat, size);

	/* through a context, with an explicit stride, a sub-box at an offset */
	assert_int_equal(ctx_create(fe, 3), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 3, 1),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_mem_fill(fe, gpa, 0, size), 0);
	const struct xfer sub = {.x = 4,
	        .y = 2,
	        .w = 8,
	        .h = 5,
	        .d = 1,
	        .stride = w * 4,
	        .offset = 2 * w * 4 + 4 * 4};
	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 3, 1, &sub),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_mem_read(fe, gpa, got, size), 0);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			bool inside = x >= 4 && x < 12 && y >= 2 && y < 7;
			size_t o = ((size_t)y * w + x) * 4;

			for (unsigned int b = 0; b < 4; b++) {
				if (got[o + b] != (inside ? pat[o + b] : 0)) {
					fail_msg("sub-box read: pixel %u,%u byte %u is 0x%02x", x,
					        y, b, got[o + b]);
				}
			}
		}
	}

	/* a sub-box written from another pattern, the whole read back */
	uint8_t *pat2 = malloc(size), *want = malloc(size);

	assert_non_null(pat2);
	assert_non_null(want);
	fill_pattern(pat2, size, 101);
	memcpy(want, pat, size);
	for (uint32_t y = 2; y < 7; y++) {
		memcpy(want + ((size_t)y * w + 4) * 4, pat2 + ((size_t)y * w + 4) * 4, 8 * 4);
	}
	assert_int_equal(vdgfe_mem_write(fe, gpa, pat2, size), 0);
	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 3, 1, &sub),
	        VIRTIO_GPU_RESP_OK_NODATA);
	/* read into a second resource's worth of fresh memory: detach, attach elsewhere */
	assert_int_equal(vdgfe_gpu_detach_backing(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_mem_alloc(fe, size, 4096, 0, &gpa2), 0);
	assert_int_equal(vdgfe_mem_fill(fe, gpa2, 0x55, size), 0);
	assert_int_equal(
	        vdgfe_gpu_attach_backing(fe, 1, gpa2, size, 256), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 0, 1, &all),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_mem_read(fe, gpa2, got, size), 0);
	assert_memory_equal(got, want, size);
	free(pat);
	free(pat2);
	free(want);
	free(got);
}

static void test_transfer_errors(void **state)
{
	struct vdgfe *fe = fe_virgl();
	const struct xfer all = {.w = 16, .h = 16, .d = 1};
	struct xfer t;

	(void)state;
	assert_int_equal(create_tex(fe, 1, 16, 16), VIRTIO_GPU_RESP_OK_NODATA);
	tex_with_backing(fe, 2, 16, 16);
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	for (uint32_t type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D;
	        type <= VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D; type++) {
		/* no backing */
		assert_int_equal(transfer(fe, type, 0, 1, &all), VIRTIO_GPU_RESP_ERR_UNSPEC);
		/* unknown resource, resource 0 */
		assert_int_equal(
		        transfer(fe, type, 0, 3, &all), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
		assert_int_equal(
		        transfer(fe, type, 0, 0, &all), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
		/* unknown non-zero context */
		assert_int_equal(
		        transfer(fe, type, 9, 2, &all), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
		/* boxes outside the resource, including wrapping ones */
		t = all;
		t.x = 10;
		t.w = 8;
		assert_int_equal(
		        transfer(fe, type, 0, 2, &t), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		t = all;
		t.h = 17;
		assert_int_equal(
		        transfer(fe, type, 0, 2, &t), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		t = all;
		t.x = 0xffffffffu;
		t.w = 2;
		assert_int_equal(
		        transfer(fe, type, 0, 2, &t), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		t = all;
		t.z = 1;
		assert_int_equal(
		        transfer(fe, type, 0, 2, &t), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		t = all;
		t.level = 1; /* no mip level 1 */
		assert_int_equal(
		        transfer(fe, type, 0, 2, &t), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		/* the backing is too small for the offset */
		t = all;
		t.offset = 16 * 16 * 4;
		assert_int_equal(
		        transfer(fe, type, 0, 2, &t), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		t = all;
		t.offset = UINT64_MAX - 8;
		assert_int_equal(
		        transfer(fe, type, 0, 2, &t), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		/*
		 * Through a context the resource is not attached to: virglrenderer
		 * refuses, and marks that context as failed (later work on it fails).
		 */
		uint32_t bad_ctx = 10 + type, good_ctx = 20 + type;

		assert_int_equal(ctx_create(fe, bad_ctx), VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(transfer(fe, type, bad_ctx, 2, &all),
		        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
		/* and good ones still work */
		assert_int_equal(transfer(fe, type, 0, 2, &all), VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(ctx_create(fe, good_ctx), VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, good_ctx, 2),
		        VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(transfer(fe, type, good_ctx, 2, &all), VIRTIO_GPU_RESP_OK_NODATA);
	}
}

/* ---- SUBMIT_3D ---------------------------------------------------------------------- */

static void test_submit_3d(void **state)
{
	struct vdgfe *fe = fe_virgl();
	uint32_t nops[8] = {0};

	(void)state;
	assert_int_equal(
	        submit_stream(fe, 5, sub_ctx_stream, 4), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	assert_int_equal(
	        submit_stream(fe, 0, sub_ctx_stream, 4), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	assert_int_equal(ctx_create(fe, 5), VIRTIO_GPU_RESP_OK_NODATA);
	/* size 0: nothing to do */
	assert_int_equal(submit(fe, 5, 0, NULL, 0, 0), VIRTIO_GPU_RESP_OK_NODATA);
	/* size not a multiple of 4 */
	assert_int_equal(submit(fe, 5, 6, nops, 2, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(submit(fe, 5, 1, nops, 2, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* size larger than what the request carries */
	assert_int_equal(submit(fe, 5, 64, nops, 4, 16), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(
	        submit(fe, 5, 0xfffffffcu, nops, 4, 16), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* over 4 MiB, even when all of it is sent */
	assert_int_equal(submit(fe, 5, MAX_SUBMIT_SIZE + 4, NULL, 0, 16),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(submit(fe, 5, MAX_SUBMIT_SIZE + 4, NULL, 0, MAX_SUBMIT_SIZE + 4),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* exactly 4 MiB of NOPs is fine */
	assert_int_equal(submit(fe, 5, MAX_SUBMIT_SIZE, NULL, 0, MAX_SUBMIT_SIZE),
	        VIRTIO_GPU_RESP_OK_NODATA);
	/* a small valid stream; more bytes sent than size is fine */
	assert_int_equal(submit_stream(fe, 5, sub_ctx_stream, 4), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(submit(fe, 5, 16, sub_ctx_stream, 4, 64), VIRTIO_GPU_RESP_OK_NODATA);
	/* the stream split over several readable descriptors */
	{
		struct vdgfe_submit_opts opts = {.req_split = 12};
		struct vdgfe_cmd *cmd = NULL;
		size_t len;
		void *req = submit_req(5, 16, sub_ctx_stream, 4, 16, false, 0, &len);

		assert_int_equal(vdgfe_gpu_submit(fe, VDGFE_CTRLQ, req, len, 24, &opts, &cmd), 0);
		assert_int_equal(vdgfe_gpu_wait(fe, cmd, ITEST_TIMEOUT_MS), 0);
		assert_int_equal(vdgfe_cmd_resp_type(fe, cmd), VIRTIO_GPU_RESP_OK_NODATA);
		vdgfe_cmd_free(fe, cmd);
		free(req);
	}
}

/*
 * Garbage streams: virglrenderer refuses an unknown command (ERR_UNSPEC)
 * and stops at a command longer than the stream (OK: it reports a buffer
 * error to the context and returns success). Either way the daemon lives.
 */
static void test_submit_3d_garbage(void **state)
{
	struct vdgfe *fe = fe_virgl();
	uint32_t words[256];
	uint32_t seed = 0x1234567u;

	(void)state;
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	words[0] = 0xdeadbeefu; /* command 0xef: beyond VIRGL_MAX_COMMANDS */
	assert_int_equal(submit_stream(fe, 1, words, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	words[0] = VIRGL_CMD0(VIRGL_CCMD_NOP, 0, 1000); /* longer than the stream */
	assert_int_equal(submit_stream(fe, 1, words, 1), VIRTIO_GPU_RESP_OK_NODATA);
	words[0] = VIRGL_CMD0(VIRGL_CCMD_SET_SUB_CTX, 0, 0); /* wrong length */
	assert_int_equal(submit_stream(fe, 1, words, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);

	/* random streams on fresh contexts: any answer, but an answer */
	for (uint32_t round = 0; round < 64; round++) {
		int r;

		assert_int_equal(ctx_create(fe, 100 + round), VIRTIO_GPU_RESP_OK_NODATA);
		for (size_t i = 0; i < 256; i++) {
			seed = seed * 1103515245u + 12345u;
			words[i] = seed;
			/* mostly real command numbers, so the decoders run */
			if (i % 8 == 0) {
				words[i] = VIRGL_CMD0(
				        seed % 60, (seed >> 8) & 0xff, (seed >> 16) % 12);
			}
		}
		r = submit_stream(fe, 100 + round, words, 256);
		if (r != VIRTIO_GPU_RESP_OK_NODATA && r != VIRTIO_GPU_RESP_ERR_UNSPEC) {
			fail_msg("round %u: answer 0x%x", round, r);
		}
		assert_true(itest_daemon_alive(&itest_d));
	}
	/* a fresh context still works */
	assert_int_equal(ctx_create(fe, 2), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(submit_stream(fe, 2, sub_ctx_stream, 4), VIRTIO_GPU_RESP_OK_NODATA);
	assert_daemon_answers(fe);
}

/* The formats Linux uses (XRGB8888, ARGB8888) and R8G8B8A8: pixel-exact on the display. */
static void test_2d_in_virgl_mode(void **state)
{
	static const uint32_t fmts[] = {VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
	        VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM};
	struct vdgfe *fe = fe_virgl();

	(void)state;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		assert_int_equal(frame_2d(fe, 1 + (uint32_t)i, fmts[i]), VIRTIO_GPU_RESP_OK_NODATA);
	}
}

/*
 * Every virtio 2D format: virglrenderer decides which ones it can back with
 * a texture (that depends on GL or GLES), so a clean INVALID_PARAMETER at
 * creation is accepted and listed; a created resource must show exactly.
 */
static void test_2d_in_virgl_mode_all_formats(void **state)
{
	static const uint32_t fmts[] = ITEST_ALL_FORMATS;
	struct vdgfe *fe = fe_virgl();

	(void)state;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		int r = frame_2d(fe, 1 + (uint32_t)i, fmts[i]);

		if (r == VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER) {
			fprintf(stderr, "test-3d: format %u refused by virglrenderer\n", fmts[i]);
		} else {
			assert_int_equal(r, VIRTIO_GPU_RESP_OK_NODATA);
		}
	}
}

/* A scanout showing part of a larger resource: the flush lands at the scanout's offset. */
static void test_2d_scanout_offset(void **state)
{
	struct vdgfe *fe = fe_virgl();
	const uint32_t fmt = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w = 128, h = 96, size = w * h * 4;
	uint8_t *img = malloc(size);
	uint64_t gpa = itest_resource(fe, 1, fmt, w, h), updates;

	(void)state;
	assert_non_null(img);
	fill_pattern(img, size, 9);
	assert_int_equal(vdgfe_mem_write(fe, gpa, img, size), 0);
	assert_int_equal(
	        vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, w, h, 0), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(
	        vdgfe_gpu_set_scanout(fe, 0, 1, 32, 16, 64, 48), VIRTIO_GPU_RESP_OK_NODATA);
	updates = fe->sink.counts[VUGPU_UPDATE];
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, w, h), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, updates + 1), 0);
	for (uint32_t y = 0; y < 48; y++) {
		for (uint32_t x = 0; x < 64; x++) {
			bool ok = false;
			uint32_t got = vdgfe_sink_pixel(&fe->sink, 0, x, y, &ok) & 0xffffff;
			uint32_t want =
			        itest_expected_xrgb(fmt, img + ((size_t)(y + 16) * w + x + 32) * 4);

			assert_true(ok);
			if (got != want) {
				fail_msg("scanout pixel %u,%u is 0x%06x, want 0x%06x", x, y, got,
				        want);
			}
		}
	}
	free(img);
}

static void test_cursor_virgl(void **state)
{
	struct vdgfe *fe = fe_virgl();
	const uint32_t fmt = VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, dim = 64, size = dim * dim * 4;
	uint8_t *img = malloc(size);
	uint64_t gpa = itest_resource(fe, 1, fmt, dim, dim), n;
	unsigned int bad = 0, first_bad = 0;

	(void)state;
	assert_non_null(img);
	/* rows and columns distinguishable: a flipped or mirrored image fails */
	for (uint32_t y = 0; y < dim; y++) {
		for (uint32_t x = 0; x < dim; x++) {
			uint8_t *p = img + ((size_t)y * dim + x) * 4;

			p[0] = (uint8_t)(x * 4);
			p[1] = (uint8_t)(y * 4);
			p[2] = (uint8_t)(x ^ y);
			p[3] = (uint8_t)(0x80 + y);
		}
	}
	assert_int_equal(vdgfe_mem_write(fe, gpa, img, size), 0);
	assert_int_equal(
	        vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, dim, dim, 0), VIRTIO_GPU_RESP_OK_NODATA);
	n = fe->sink.counts[VUGPU_CURSOR_UPDATE];
	assert_int_equal(
	        vdgfe_gpu_update_cursor(fe, 0, 100, 50, 1, 3, 4), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(itest_wait_sink(fe, VUGPU_CURSOR_UPDATE, n + 1), 0);
	assert_true(fe->sink.cursor.defined);
	assert_int_equal(fe->sink.cursor.x, 100);
	assert_int_equal(fe->sink.cursor.y, 50);
	assert_int_equal(fe->sink.cursor.hot_x, 3);
	assert_int_equal(fe->sink.cursor.hot_y, 4);
	for (uint32_t i = 0; i < dim * dim; i++) {
		if (fe->sink.cursor.image[i] != itest_expected_argb(fmt, img + (size_t)i * 4)) {
			if (bad++ == 0) {
				first_bad = i;
			}
		}
	}
	if (bad) {
		uint32_t fy = first_bad / dim, fx = first_bad % dim;
		uint32_t flipped =
		        itest_expected_argb(fmt, img + ((size_t)(dim - 1 - fy) * dim + fx) * 4);

		fail_msg("%u cursor pixels differ; first %u,%u is 0x%08x, want 0x%08x "
		         "(the row mirrored vertically is 0x%08x)",
		        bad, fx, fy, fe->sink.cursor.image[first_bad],
		        itest_expected_argb(fmt, img + (size_t)first_bad * 4), flipped);
	}
	/* a cursor resource that is not 64x64 */
	itest_resource(fe, 2, fmt, 32, 32);
	assert_int_equal(vdgfe_gpu_update_cursor(fe, 0, 0, 0, 2, 0, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	free(img);
}

/*
 * virglrenderer keeps host iovecs of a resource's backing: after every
 * memory-table change the daemon must give it new ones (docs/security.md
 * rule 3). A texture backed in region 1; region 1 replaced by a new memfd:
 * TRANSFER_TO_HOST_3D reads the new memory and TRANSFER_FROM_HOST_3D writes
 * into it (stale iovecs would point into an unmapped range: a crash, or an
 * ASan report). Region 1 left out: the transfers are refused. Region 1 back:
 * they work again.
 */
static void test_mem_table_replaced_3d(void **state)
{
	const uint32_t w = 16, h = 16, size = w * h * 4;
	const struct xfer all = {.w = w, .h = h, .d = 1};
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint8_t *pat_a = malloc(size), *pat_b = malloc(size), *got = malloc(size), *map;
	uint64_t b, off;
	size_t size1;
	int fd;

	(void)state;
	assert_non_null(pat_a);
	assert_non_null(pat_b);
	assert_non_null(got);
	itest_config(&cfg);
	cfg.want_virgl = true;
	cfg.split_mem = true;
	cfg.region_gap = UINT64_C(1) << 20;
	fe = itest_fe_start(&cfg);
	size1 = fe->regions[1].size;
	b = fe->regions[1].gpa + 4096;
	off = b - fe->regions[1].gpa;
	fill_pattern(pat_a, size, 1);
	fill_pattern(pat_b, size, 2);
	assert_int_equal(create_tex(fe, 1, w, h), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_mem_alloc_at(fe, b, size), 0);
	assert_int_equal(vdgfe_mem_write(fe, b, pat_a, size), 0);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 1, b, size, 256), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 0, 1, &all),
	        VIRTIO_GPU_RESP_OK_NODATA);

	/* region 1 from a new memfd holding pattern B */
	fd = itest_memfd(size1, &map);
	memcpy(map + off, pat_b, size);
	assert_int_equal(itest_set_mem_table(fe, fd, map), 0);
	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 0, 1, &all),
	        VIRTIO_GPU_RESP_OK_NODATA);
	memset(map + off, 0x55, size);
	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 0, 1, &all),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_memory_equal(map + off, pat_b, size);
	/* the old memory is not touched any more */
	assert_int_equal(vdgfe_mem_read(fe, b, got, size), 0);
	assert_memory_equal(got, pat_a, size);

	/* region 1 gone: the backing is outside guest memory, the renderer has none */
	assert_int_equal(itest_set_mem_table(fe, -1, NULL), 0);
	for (uint32_t type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D;
	        type <= VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D; type++) {
		assert_int_equal(
		        transfer(fe, type, 0, 1, &all), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	}
	assert_memory_equal(map + off, pat_b, size);
	assert_daemon_answers(fe);

	/* the original region 1 back: the same guest addresses, its memory */
	assert_int_equal(itest_set_mem_table(fe, fe->regions[1].fd, fe->regions[1].hva), 0);
	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 0, 1, &all),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_mem_read(fe, b, got, size), 0);
	assert_memory_equal(got, pat_b, size);
	/* detached and unreferenced after all that */
	assert_int_equal(vdgfe_gpu_detach_backing(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	munmap(map, size1);
	close(fd);
	free(pat_a);
	free(pat_b);
	free(got);
}

struct repeat {
	const void *req;
	size_t len;
};

static size_t build_repeat(struct vdgfe *fe, uint32_t i, void *buf, void *arg)
{
	const struct repeat *r = arg;

	(void)fe;
	(void)i;
	memcpy(buf, r->req, r->len);
	return r->len;
}

static void repeat(struct vdgfe *fe, const void *req, size_t len, uint32_t n, uint32_t want)
{
	struct repeat r = {req, len};

	itest_batch(fe, n, build_repeat, &r, want);
}

/*
 * CVE-2021-3544: QEMU's vhost-user-gpu leaked memory on repeated 3D
 * commands (virgl_cmd_get_capset, RESOURCE_ATTACH_BACKING of a resource
 * that has one, error paths of resource creation). Each is repeated here
 * on its good and its error paths and must get its answer every time; the
 * budget of host memory is unchanged after them; under ASan the daemon's
 * LeakSanitizer has its say when the group's daemon exits.
 */
static void test_repeated_errors_no_leak_3d(void **state)
{
	const uint32_t reps = 300;
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	struct virtio_gpu_get_capset capset;
	struct virtio_gpu_resource_create_3d create;
	struct create_3d c;
	struct capset cs;
	uint64_t gpa;

	(void)state;
	itest_config(&cfg);
	cfg.want_virgl = true;
	cfg.ctrl_qsize = 1024;
	fe = itest_fe_start(&cfg);
	get_capset_info(fe, 1, &cs);
	/* GET_CAPSET: the whole capset each time (a heap buffer per answer), and refused ones */
	{
		struct vdgfe_submit_opts opts = {.indirect = true, .no_kick = true};
		struct vdgfe_cmd *cmds[64];

		capset_req(&capset, cs.id, cs.max_version);
		for (uint32_t round = 0; round < reps / 60; round++) {
			for (uint32_t i = 0; i < 60; i++) {
				assert_int_equal(
				        vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &capset, sizeof(capset),
				                24 + cs.max_size, &opts, &cmds[i]),
				        0);
			}
			assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
			assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
			for (uint32_t i = 0; i < 60; i++) {
				assert_int_equal(vdgfe_cmd_resp_type(fe, cmds[i]),
				        VIRTIO_GPU_RESP_OK_CAPSET);
				assert_int_equal(cmds[i]->used_len, 24 + cs.max_size);
				vdgfe_cmd_free(fe, cmds[i]);
			}
		}
	}
	capset_req(&capset, cs.id, cs.max_version + 1);
	repeat(fe, &capset, sizeof(capset), reps, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	capset_req(&capset, 77, 0);
	repeat(fe, &capset, sizeof(capset), reps, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

	/* RESOURCE_CREATE_3D: refused by virglrenderer (after our checks), by the budget, id in use
	 */
	gpa = tex_with_backing(fe, 1, 16, 16);
	c = (struct create_3d){.target = 99,
	        .format = VIRGL_FORMAT_B8G8R8A8_UNORM,
	        .bind = VIRGL_BIND_SAMPLER_VIEW,
	        .width = 16,
	        .height = 16,
	        .depth = 1,
	        .array_size = 1};
	create_3d_req(&create, 2, &c);
	repeat(fe, &create, sizeof(create), reps, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	c.target = PIPE_TEXTURE_2D;
	c.width = c.height = 16384;
	c.array_size = 4;
	create_3d_req(&create, 2, &c);
	repeat(fe, &create, sizeof(create), reps, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	c.width = c.height = 16;
	c.array_size = 1;
	create_3d_req(&create, 1, &c);
	repeat(fe, &create, sizeof(create), reps, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* ATTACH_BACKING of a resource that has one */
	{
		struct {
			struct virtio_gpu_resource_attach_backing a;
			struct virtio_gpu_mem_entry e;
		} att;

		memset(&att, 0, sizeof(att));
		hdr_init(&att.a.hdr, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 0, false, 0);
		att.a.resource_id = htole32(1);
		att.a.nr_entries = htole32(1);
		att.e.addr = htole64(gpa);
		att.e.length = htole32(1024);
		repeat(fe, &att, sizeof(att), reps, VIRTIO_GPU_RESP_ERR_UNSPEC);
	}
	/* CTX_CREATE of an id in use */
	{
		struct virtio_gpu_ctx_create cc;

		assert_int_equal(ctx_create(fe, 5), VIRTIO_GPU_RESP_OK_NODATA);
		memset(&cc, 0, sizeof(cc));
		hdr_init(&cc.hdr, VIRTIO_GPU_CMD_CTX_CREATE, 5, false, 0);
		cc.nlen = htole32(64);
		memset(cc.debug_name, 'x', sizeof(cc.debug_name));
		repeat(fe, &cc, sizeof(cc), reps, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	}
	/* the good paths of the same, repeated: attach/detach, create/unref, ctx create/destroy */
	for (uint32_t i = 0; i < 100; i++) {
		assert_int_equal(vdgfe_gpu_detach_backing(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(vdgfe_gpu_attach_backing(fe, 1, gpa, 16 * 16 * 4, 256),
		        VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(create_tex(fe, 3, 16, 16), VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(vdgfe_gpu_attach_backing(fe, 3, gpa, 16 * 16 * 4, 0),
		        VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(vdgfe_gpu_resource_unref(fe, 3), VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(ctx_create(fe, 6), VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(ctx_destroy(fe, 6), VIRTIO_GPU_RESP_OK_NODATA);
	}
	/* the resource still transfers; the budget is whole once it is gone */
	const struct xfer all = {.w = 16, .h = 16, .d = 1};

	assert_int_equal(transfer(fe, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 0, 1, &all),
	        VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	c = (struct create_3d){.target = PIPE_BUFFER,
	        .format = VIRGL_FORMAT_B8G8R8A8_UNORM,
	        .bind = VIRGL_BIND_SAMPLER_VIEW,
	        .width = 1u << 28,
	        .height = 1,
	        .depth = 1,
	        .array_size = 1}; /* estimated at 4 bytes a texel: exactly 1 GiB */
	assert_int_equal(create_3d(fe, 7, &c), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(create_tex(fe, 8, 1, 1), VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 7), VIRTIO_GPU_RESP_OK_NODATA);
	assert_daemon_answers(fe);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_features_and_num_capsets, itest_teardown),
	        cmocka_unit_test_teardown(test_capset_option, itest_teardown),
	        cmocka_unit_test_teardown(test_get_capset_info, itest_teardown),
	        cmocka_unit_test_teardown(test_get_capset, itest_teardown),
	        cmocka_unit_test_teardown(test_get_capset_small_buffer, itest_teardown),
	        cmocka_unit_test_teardown(test_ctx_create_destroy, itest_teardown),
	        cmocka_unit_test_teardown(test_ctx_limit, itest_teardown),
	        cmocka_unit_test_teardown(test_ctx_resource, itest_teardown),
	        cmocka_unit_test_teardown(test_resource_create_3d, itest_teardown),
	        cmocka_unit_test_teardown(test_transfer_round_trip, itest_teardown),
	        cmocka_unit_test_teardown(test_transfer_errors, itest_teardown),
	        cmocka_unit_test_teardown(test_submit_3d, itest_teardown),
	        cmocka_unit_test_teardown(test_submit_3d_garbage, itest_teardown),
	        cmocka_unit_test_teardown(test_2d_in_virgl_mode, itest_teardown),
	        cmocka_unit_test_teardown(test_2d_in_virgl_mode_all_formats, itest_teardown),
	        cmocka_unit_test_teardown(test_2d_scanout_offset, itest_teardown),
	        cmocka_unit_test_teardown(test_cursor_virgl, itest_teardown),
	        cmocka_unit_test_teardown(test_mem_table_replaced_3d, itest_teardown),
	        cmocka_unit_test_teardown(test_repeated_errors_no_leak_3d, itest_teardown),
	};

	itest_init(argc, argv);
	/* itest_exit: a failed fixture (a sanitizer report at the daemon's exit) fails the run */
	return itest_exit(cmocka_run_group_tests(tests, group_setup, itest_group_teardown));
}
