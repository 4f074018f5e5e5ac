/* SPDX-License-Identifier: MIT */
/*
 * Fences in virglrenderer mode against the real daemon: answers in order on
 * the global timeline and per (context, ring) with CONTEXT_INIT, errors
 * answered at once, 64-bit ids, the pending-fence limit, the fence thread's
 * scheduling, and work in flight across a stop or a reconnect. Shared
 * helpers in it3d.c.
 *
 * Usage: test-3d-fences path/to/vhost-device-gpu
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it3d.h"

/* The daemon's documented limits (src/virtio-gpu/gpu-priv.h, src/vhost-user/vu-vring.h). */
#define MAX_PENDING_FENCES 1024u
#define VRING_MAX_SIZE 1024u

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/* Policy of the daemon's thread named `name`, or -1 if it has none. */
static int thread_policy(pid_t pid, const char *name)
{
	char dir_path[64], path[128], comm[32];
	struct dirent *d;
	int policy = -1;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/proc/%d/task", (int)pid);
	dir = opendir(dir_path);
	assert_non_null(dir);
	while (policy < 0 && (d = readdir(dir))) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%.32s/comm", dir_path, d->d_name);
		f = d->d_name[0] == '.' ? NULL : fopen(path, "r");
		if (!f) {
			continue;
		}
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			if (strcmp(comm, name) == 0) {
				policy = sched_getscheduler(atoi(d->d_name));
			}
		}
		fclose(f);
	}
	closedir(dir);
	return policy;
}

struct capset {
	uint32_t id, max_version, max_size;
};

/* ---- fences ------------------------------------------------------------------------- */

struct fenced {
	struct vdgfe_cmd *cmd;
	bool fence;
	uint64_t fence_id;
	uint32_t ctx;
	uint32_t want;
};

static void queue_cmd(struct vdgfe *fe, struct fenced *f, const void *req, size_t len)
{
	struct vdgfe_submit_opts opts = {.no_kick = true};

	assert_int_equal(vdgfe_gpu_submit(fe, VDGFE_CTRLQ, req, len, 64, &opts, &f->cmd), 0);
	assert_int_equal(vdgfe_mem_fill(fe, f->cmd->resp_gpa, POISON, 64), 0);
}

static void queue_submit(
        struct vdgfe *fe, struct fenced *f, uint32_t ctx, bool fence, uint64_t id, uint32_t want)
{
	size_t len;
	void *req = submit_req(ctx, 16, sub_ctx_stream, 4, 16, fence, id, &len);

	*f = (struct fenced){.fence = fence, .fence_id = id, .ctx = ctx, .want = want};
	queue_cmd(fe, f, req, len);
	free(req);
}

static void queue_transfer(struct vdgfe *fe, struct fenced *f, uint32_t ctx, uint32_t res,
        bool fence, uint64_t id, uint32_t want)
{
	struct virtio_gpu_transfer_host_3d req;
	const struct xfer t = {.w = 16, .h = 16, .d = 1};

	transfer_req(&req, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, ctx, res, &t, fence, id);
	*f = (struct fenced){.fence = fence, .fence_id = id, .ctx = ctx, .want = want};
	queue_cmd(fe, f, &req, sizeof(req));
}

/* Checks each response: type, fence echo (flags, id, ctx), 24 bytes, nothing beyond. */
static void check_fenced(struct vdgfe *fe, const struct fenced *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t resp[64];

		assert_true(f[i].cmd->done);
		assert_int_equal(f[i].cmd->used_len, 24);
		assert_int_equal(vdgfe_mem_read(fe, f[i].cmd->resp_gpa, resp, sizeof(resp)), 0);
		if (le32_at(resp) != f[i].want) {
			fail_msg(
			        "command %zu: answer 0x%x, want 0x%x", i, le32_at(resp), f[i].want);
		}
		if (f[i].fence) {
			assert_int_equal(le32_at(resp + 4), VIRTIO_GPU_FLAG_FENCE);
			if (le64_at(resp + 8) != f[i].fence_id) {
				fail_msg("command %zu: fence id 0x%llx, want 0x%llx", i,
				        (unsigned long long)le64_at(resp + 8),
				        (unsigned long long)f[i].fence_id);
			}
			assert_int_equal(le32_at(resp + 16), f[i].ctx);
		} else {
			assert_int_equal(le32_at(resp + 4), 0);
			assert_int_equal(le64_at(resp + 8), 0);
		}
		assert_poison(resp + 24, sizeof(resp) - 24);
	}
}

static void free_fenced(struct vdgfe *fe, struct fenced *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		vdgfe_cmd_free(fe, f[i].cmd);
		f[i].cmd = NULL;
	}
}

#define NFENCED 32

static void test_fence_order(void **state)
{
	struct vdgfe *fe = fe_virgl();
	struct fenced f[NFENCED + NFENCED / 4];
	size_t n = 0;
	uint64_t last_done = 0;

	(void)state;
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	tex_with_backing(fe, 1, 16, 16);
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 1),
	        VIRTIO_GPU_RESP_OK_NODATA);
	/* fenced SUBMIT_3D and transfers (ctx 1 and ctx 0), with some unfenced between */
	for (unsigned int i = 0; i < NFENCED; i++) {
		uint64_t id = 1000 + i;

		if (i % 3 == 0) {
			queue_transfer(
			        fe, &f[n++], i % 2 ? 1 : 0, 1, true, id, VIRTIO_GPU_RESP_OK_NODATA);
		} else {
			queue_submit(fe, &f[n++], 1, true, id, VIRTIO_GPU_RESP_OK_NODATA);
		}
		if (i % 4 == 1) {
			queue_submit(fe, &f[n++], 1, false, 0, VIRTIO_GPU_RESP_OK_NODATA);
		}
	}
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	check_fenced(fe, f, n);
	/* fenced commands complete in submission order */
	for (size_t i = 0; i < n; i++) {
		if (!f[i].fence) {
			continue;
		}
		if (f[i].cmd->done_seq <= last_done) {
			fail_msg("fence %llu completed before an earlier fenced command",
			        (unsigned long long)f[i].fence_id);
		}
		last_done = f[i].cmd->done_seq;
	}
	free_fenced(fe, f, n);
}

/*
 * A fenced command that fails is answered at once: it is not held behind
 * the fence of the command before it. The daemon retires fences only from
 * its loop (virglrenderer's poll fd), after the whole kicked batch has been
 * dispatched, so within one kick the failing command is answered first.
 */
static void test_fence_error_immediate(void **state)
{
	struct vdgfe *fe = fe_virgl();
	struct fenced f[6];

	(void)state;
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	queue_submit(fe, &f[0], 1, true, 1, VIRTIO_GPU_RESP_OK_NODATA);
	queue_submit(fe, &f[1], 9, true, 2, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	queue_transfer(fe, &f[2], 0, 42, true, 3, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	{
		size_t len;
		void *req = submit_req(1, 6, NULL, 0, 8, true, 4, &len);

		f[3] = (struct fenced){.fence = true,
		        .fence_id = 4,
		        .ctx = 1,
		        .want = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER};
		queue_cmd(fe, &f[3], req, len);
		free(req);
	}
	queue_submit(fe, &f[4], 1, true, 5, VIRTIO_GPU_RESP_OK_NODATA);
	/* unfenced after pending fences: may overtake them */
	queue_submit(fe, &f[5], 1, false, 0, VIRTIO_GPU_RESP_OK_NODATA);
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	check_fenced(fe, f, 6);
	for (unsigned int i = 1; i <= 3; i++) {
		if (f[i].cmd->done_seq > f[0].cmd->done_seq) {
			fail_msg("failing fenced command %u was held behind fence 1", i);
		}
	}
	assert_true(f[0].cmd->done_seq < f[4].cmd->done_seq);
	fprintf(stderr, "test-3d: unfenced command after pending fences completed %s them\n",
	        f[5].cmd->done_seq < f[0].cmd->done_seq ? "before" : "after");
	free_fenced(fe, f, 6);
}

static void test_fence_64bit_ids(void **state)
{
	static const uint64_t ids[] = {UINT64_C(0x100000000), UINT64_C(0x100000001),
	        UINT64_C(0xffffffff), UINT64_C(0x123456789abcdef0), UINT64_C(0xfffffffffffffffe),
	        UINT64_MAX, 0, UINT64_C(0x200000000), 7};
	const size_t n = sizeof(ids) / sizeof(ids[0]);
	struct vdgfe *fe = fe_virgl();
	struct fenced f[sizeof(ids) / sizeof(ids[0])];

	(void)state;
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	tex_with_backing(fe, 1, 16, 16);
	for (size_t i = 0; i < n; i++) {
		if (i % 2) {
			queue_transfer(fe, &f[i], 0, 1, true, ids[i], VIRTIO_GPU_RESP_OK_NODATA);
		} else {
			queue_submit(fe, &f[i], 1, true, ids[i], VIRTIO_GPU_RESP_OK_NODATA);
		}
	}
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	check_fenced(fe, f, n);
	for (size_t i = 1; i < n; i++) {
		assert_true(f[i].cmd->done_seq > f[i - 1].cmd->done_seq);
	}
	free_fenced(fe, f, n);

	/* one at a time too: each waits for its own fence */
	for (size_t i = 0; i < n; i++) {
		queue_submit(fe, &f[0], 1, true, ids[i], VIRTIO_GPU_RESP_OK_NODATA);
		assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
		assert_int_equal(vdgfe_gpu_wait(fe, f[0].cmd, ITEST_TIMEOUT_MS), 0);
		check_fenced(fe, f, 1);
		free_fenced(fe, f, 1);
	}
}

/* Many rounds of fenced work: fences never stall (the poll fd keeps working). */
static void test_fence_many_rounds(void **state)
{
	struct vdgfe *fe = fe_virgl();
	struct fenced f[8];
	uint64_t id = 1;

	(void)state;
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	tex_with_backing(fe, 1, 16, 16);
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 1),
	        VIRTIO_GPU_RESP_OK_NODATA);
	for (unsigned int round = 0; round < 100; round++) {
		for (unsigned int i = 0; i < 8; i++) {
			if (i % 2) {
				queue_transfer(
				        fe, &f[i], 1, 1, true, id++, VIRTIO_GPU_RESP_OK_NODATA);
			} else {
				queue_submit(fe, &f[i], 1, true, id++, VIRTIO_GPU_RESP_OK_NODATA);
			}
		}
		assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
		assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
		check_fenced(fe, f, 8);
		free_fenced(fe, f, 8);
	}
}

/* ---- reconnect ---------------------------------------------------------------------- */

/* Leaves contexts, resources and in-flight fenced work behind, then vanishes. */
static void busy_session_and_drop(void)
{
	struct vdgfe *fe = fe_virgl();
	struct fenced f[16];

	for (uint32_t c = 1; c <= 4; c++) {
		assert_int_equal(ctx_create(fe, c), VIRTIO_GPU_RESP_OK_NODATA);
	}
	tex_with_backing(fe, 1, 16, 16);
	tex_with_backing(fe, 2, 16, 16);
	assert_int_equal(ctx_resource(fe, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 1, 1),
	        VIRTIO_GPU_RESP_OK_NODATA);
	for (unsigned int i = 0; i < 16; i++) {
		if (i % 2) {
			queue_transfer(fe, &f[i], 1, 1, true, 500 + i, VIRTIO_GPU_RESP_OK_NODATA);
		} else {
			queue_submit(
			        fe, &f[i], 1 + i % 4, true, 500 + i, VIRTIO_GPU_RESP_OK_NODATA);
		}
	}
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	/* gone without waiting and without a stop sequence */
	itest_fe_destroy();
}

/* Context ctx and texture res are created; 8 fenced commands on them complete in order. */
static void fenced_work_completes_on(struct vdgfe *fe, uint32_t ctx, uint32_t res)
{
	struct fenced f[8];

	assert_int_equal(ctx_create(fe, ctx), VIRTIO_GPU_RESP_OK_NODATA);
	tex_with_backing(fe, res, 16, 16);
	for (unsigned int i = 0; i < 8; i++) {
		if (i % 2) {
			queue_transfer(fe, &f[i], 0, res, true, 1 + i, VIRTIO_GPU_RESP_OK_NODATA);
		} else {
			queue_submit(fe, &f[i], ctx, true, 1 + i, VIRTIO_GPU_RESP_OK_NODATA);
		}
	}
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	check_fenced(fe, f, 8);
	free_fenced(fe, f, 8);
}

static void fenced_work_completes(struct vdgfe *fe)
{
	fenced_work_completes_on(fe, 1, 1);
}

/*
 * virglrenderer's fence thread runs SCHED_BATCH (it must not preempt the
 * loop thread on every fence, see rnd-virgl-host.c); the loop thread stays
 * an ordinary one.
 */
static void test_fence_thread_policy(void **state)
{
	struct vdgfe *fe = fe_virgl();

	(void)state;
	fenced_work_completes(fe);
	assert_int_equal(thread_policy(itest_d.pid, "vrend-sync"), SCHED_BATCH);
	assert_int_equal(sched_getscheduler(itest_d.pid), SCHED_OTHER);
}

static void test_reconnect(void **state)
{
	(void)state;
	for (unsigned int round = 0; round < 3; round++) {
		struct vdgfe *fe;

		busy_session_and_drop();
		fe = fe_virgl();
		/* the old ids are free: the session's contexts and resources are gone */
		fenced_work_completes(fe);
		assert_int_equal(ctx_create(fe, 2), VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(create_tex(fe, 2, 16, 16), VIRTIO_GPU_RESP_OK_NODATA);
		assert_int_equal(frame_2d(fe, 3, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM),
		        VIRTIO_GPU_RESP_OK_NODATA);
		itest_fe_destroy();
	}
}

/*
 * A stop (GET_VRING_BASE) with fenced work in flight: every command the
 * device took from the ring is answered by the time it reports the ring
 * base (held fences are flushed); what it did not take yet runs after the
 * restart on the same connection, and fences retire again.
 */
static void test_stop_restart_with_fences(void **state)
{
	struct vdgfe *fe = fe_virgl();
	struct fenced f[16];
	uint32_t bases[VDGFE_NUM_QUEUES];
	unsigned int done = 0;
	uint16_t before;

	(void)state;
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	before = fe->vqs[VDGFE_CTRLQ].avail_shadow;
	for (unsigned int i = 0; i < 16; i++) {
		queue_submit(fe, &f[i], 1, true, 100 + i, VIRTIO_GPU_RESP_OK_NODATA);
	}
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	/* give the daemon a moment to take some of them */
	usleep(20000);
	assert_int_equal(vdgfe_stop(fe, false, bases), 0);
	assert_true(vdgfe_gpu_poll(fe) >= 0);
	for (unsigned int i = 0; i < 16; i++) {
		done += f[i].cmd->done;
	}
	fprintf(stderr, "test-3d: %u of 16 fenced commands taken before the stop\n",
	        (unsigned int)(uint16_t)(bases[0] - before));
	assert_int_equal(done, (uint16_t)(bases[0] - before));
	vdgfe_sink_reset_state(&fe->sink);
	assert_int_equal(vdgfe_start(fe), 0);
	assert_true(vdgfe_vq_kick(&fe->vqs[VDGFE_CTRLQ], true) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	check_fenced(fe, f, 16);
	for (unsigned int i = 1; i < 16; i++) {
		assert_true(f[i].cmd->done_seq > f[i - 1].cmd->done_seq);
	}
	free_fenced(fe, f, 16);
	/* the context survived the stop: a stop is not a reset */
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	assert_int_equal(ctx_destroy(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	fenced_work_completes(fe);
}

/* ---- fences per ring (CONTEXT_INIT) --------------------------------------------------- */

#define GPU_F_CONTEXT_INIT 4
#define CAPSET_VIRGL2 2

static struct vdgfe *fe_context_init(bool negotiate)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	itest_config(&cfg);
	cfg.want_virgl = true;
	cfg.features_set = true;
	cfg.features = VDGFE_DEFAULT_FEATURES | (negotiate ? VU_BIT(GPU_F_CONTEXT_INIT) : 0);
	fe = itest_fe_start(&cfg);
	/* offered in 3D modes; acked only when we asked */
	assert_int_equal(vu_has_bit(fe->acked_features, GPU_F_CONTEXT_INIT), negotiate);
	return fe;
}

static int ctx_create_init(struct vdgfe *fe, uint32_t ctx, uint32_t capset)
{
	struct virtio_gpu_ctx_create req;

	memset(&req, 0, sizeof(req));
	hdr_init(&req.hdr, VIRTIO_GPU_CMD_CTX_CREATE, ctx, false, 0);
	req.nlen = htole32(4);
	memcpy(req.debug_name, "ring", 4);
	req.context_init = htole32(capset);
	return itest_exec(fe, VDGFE_CTRLQ, &req, sizeof(req));
}

/* A fenced SUBMIT_3D on ring `ring` of ctx (VIRTIO_GPU_FLAG_INFO_RING_IDX). */
static void queue_ring_submit(struct vdgfe *fe, struct fenced *f, uint32_t ctx, uint8_t ring,
        uint64_t id)
{
	size_t len;
	struct virtio_gpu_cmd_submit *req = submit_req(ctx, 16, sub_ctx_stream, 4, 16, true, id, &len);

	req->hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
	req->hdr.ring_idx = ring;
	*f = (struct fenced){.fence = true, .fence_id = id, .ctx = ctx, .want = VIRTIO_GPU_RESP_OK_NODATA};
	queue_cmd(fe, f, req, len);
	free(req);
}

/* The ring flag and index come back with the fence (after check_fenced's checks of the rest). */
static void check_ring_echo(struct vdgfe *fe, const struct fenced *f, uint8_t ring)
{
	uint8_t resp[24];

	assert_true(f->cmd->done);
	assert_int_equal(vdgfe_mem_read(fe, f->cmd->resp_gpa, resp, sizeof(resp)), 0);
	assert_int_equal(le32_at(resp), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(le32_at(resp + 4), VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
	assert_int_equal(le64_at(resp + 8), f->fence_id);
	assert_int_equal(le32_at(resp + 16), f->ctx);
	assert_int_equal(resp[20], ring);
}

/*
 * Fenced commands on rings of two contexts, interleaved with global ones:
 * all are answered, with the ring echoed, and in submission order within
 * each (context, ring) timeline and within the global one.
 */
static void test_fence_rings(void **state)
{
	enum { N = 48 };
	struct vdgfe *fe = fe_context_init(true);
	struct fenced f[N];
	uint8_t ring[N];
	int timeline[N];

	(void)state;
	assert_int_equal(ctx_create_init(fe, 1, CAPSET_VIRGL2), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_create_init(fe, 2, CAPSET_VIRGL2), VIRTIO_GPU_RESP_OK_NODATA);
	for (unsigned int i = 0; i < N; i++) {
		uint64_t id = 5000 + i;

		switch (i % 4) {
		case 0: /* ctx 1, ring 0 */
		case 1: /* ctx 2, ring 0 */
			ring[i] = 0;
			timeline[i] = 1 + (int)(i % 4);
			queue_ring_submit(fe, &f[i], 1 + i % 4, 0, id);
			break;
		case 2: /* ctx 1, ring 3: a ring virglrenderer's GL contexts may not have */
			ring[i] = 3;
			timeline[i] = 3;
			queue_ring_submit(fe, &f[i], 1, 3, id);
			break;
		default: /* the global timeline */
			ring[i] = 0;
			timeline[i] = 0;
			queue_submit(fe, &f[i], 2, true, id, VIRTIO_GPU_RESP_OK_NODATA);
			break;
		}
	}
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	for (unsigned int i = 0; i < N; i++) {
		if (timeline[i] == 0) {
			check_fenced(fe, &f[i], 1);
		} else {
			check_ring_echo(fe, &f[i], ring[i]);
		}
		/* in order within its timeline */
		for (unsigned int j = 0; j < i; j++) {
			if (timeline[j] == timeline[i] && f[j].cmd->done_seq > f[i].cmd->done_seq) {
				fail_msg("fence %llu answered before the earlier %llu of its timeline",
				        (unsigned long long)f[i].fence_id,
				        (unsigned long long)f[j].fence_id);
			}
		}
	}
	free_fenced(fe, f, N);
	assert_int_equal(ctx_destroy(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(ctx_destroy(fe, 2), VIRTIO_GPU_RESP_OK_NODATA);
}

/* A context destroyed behind its own fenced work: every command is still answered. */
static void test_fence_ring_ctx_destroy(void **state)
{
	struct vdgfe *fe = fe_context_init(true);
	struct fenced f[9];
	struct virtio_gpu_ctx_destroy d;

	(void)state;
	assert_int_equal(ctx_create_init(fe, 7, CAPSET_VIRGL2), VIRTIO_GPU_RESP_OK_NODATA);
	for (unsigned int i = 0; i < 8; i++) {
		queue_ring_submit(fe, &f[i], 7, 0, 900 + i);
	}
	hdr_init(&d.hdr, VIRTIO_GPU_CMD_CTX_DESTROY, 7, false, 0);
	f[8] = (struct fenced){.ctx = 7, .want = VIRTIO_GPU_RESP_OK_NODATA};
	queue_cmd(fe, &f[8], &d, sizeof(d));
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	for (unsigned int i = 0; i < 8; i++) {
		check_ring_echo(fe, &f[i], 0);
	}
	assert_true(f[8].cmd->done);
	free_fenced(fe, f, 9);
	assert_daemon_answers(fe);
}

/* Without CONTEXT_INIT the ring flag changes nothing: a global fence, flags echoed. */
static void test_fence_ring_without_context_init(void **state)
{
	struct vdgfe *fe = fe_context_init(false);
	struct fenced f[4];

	(void)state;
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	for (unsigned int i = 0; i < 4; i++) {
		queue_ring_submit(fe, &f[i], 1, (uint8_t)i, 70 + i);
	}
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	for (unsigned int i = 0; i < 4; i++) {
		check_ring_echo(fe, &f[i], (uint8_t)i);
		if (i > 0) {
			assert_true(f[i].cmd->done_seq > f[i - 1].cmd->done_seq);
		}
	}
	free_fenced(fe, f, 4);
	assert_int_equal(ctx_destroy(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
}

/* ---- limits and faults ------------------------------------------------------------------ */

/* A daemon of the test's own (its log is read); own_teardown stops it after a failure. */
static struct itest_daemon own = {.pid = -1};

static int own_teardown(void **state)
{
	itest_fe_destroy();
	if (own.pid > 0) {
		itest_daemon_stop(&own);
	}
	return itest_teardown(state);
}

/*
 * GPU_MAX_PENDING_FENCES (1024, the ring size limit): a control ring of 1024
 * holds 1024 fenced commands at once (indirect chains, one kick: all are
 * dispatched, and held, before the loop can see a fence retire). The
 * daemon, with trace logging, says how many it holds: 1024 at the peak,
 * never more. Every one is answered in order with its fence. A fenced
 * cursor command on top is the 1025th: the daemon holds it only if fences
 * retired meanwhile, else answers it at once; either way it is answered
 * with its fence echoed, and the count never reaches 1025.
 */
static void test_fence_limit(void **state)
{
	struct vdgfe_submit_opts opts = {.indirect = true, .no_kick = true};
	struct fenced *f = calloc(MAX_PENDING_FENCES, sizeof(*f));
	struct virtio_gpu_update_cursor mc;
	struct vdgfe_cmd *cursor = NULL;
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint8_t resp[64];
	double t0 = now_s();

	(void)state;
	assert_non_null(f);
	setenv("RUST_LOG", "trace", 1);
	assert_int_equal(itest_daemon_start(&own, itest_bin, virgl_args), 0);
	unsetenv("RUST_LOG");
	itest_config(&cfg);
	cfg.socket_path = own.sock;
	cfg.want_virgl = true;
	cfg.ctrl_qsize = VRING_MAX_SIZE;
	fe = itest_fe_start(&cfg);
	assert_int_equal(ctx_create(fe, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(fe->vqs[VDGFE_CTRLQ].num_free, MAX_PENDING_FENCES);
	for (uint32_t i = 0; i < MAX_PENDING_FENCES; i++) {
		size_t len;
		void *req = submit_req(1, 16, sub_ctx_stream, 4, 16, true, 1000 + i, &len);

		f[i] = (struct fenced){.fence = true,
		        .fence_id = 1000 + i,
		        .ctx = 1,
		        .want = VIRTIO_GPU_RESP_OK_NODATA};
		assert_int_equal(
		        vdgfe_gpu_submit(fe, VDGFE_CTRLQ, req, len, 64, &opts, &f[i].cmd), 0);
		assert_int_equal(vdgfe_mem_fill(fe, f[i].cmd->resp_gpa, POISON, 64), 0);
		free(req);
	}
	memset(&mc, 0, sizeof(mc));
	hdr_init(&mc.hdr, VIRTIO_GPU_CMD_MOVE_CURSOR, 0, true, 99999);
	mc.pos.x = htole32(5);
	assert_int_equal(
	        vdgfe_gpu_submit(fe, VDGFE_CURSORQ, &mc, sizeof(mc), 24, &opts, &cursor), 0);
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CURSORQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	check_fenced(fe, f, MAX_PENDING_FENCES);
	for (size_t i = 1; i < MAX_PENDING_FENCES; i++) {
		assert_true(f[i].cmd->done_seq > f[i - 1].cmd->done_seq);
	}
	assert_int_equal(vdgfe_cmd_resp(fe, cursor, resp, 24), 24);
	assert_int_equal(le32_at(resp), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(le32_at(resp + 4), VIRTIO_GPU_FLAG_FENCE);
	assert_int_equal(le64_at(resp + 8), 99999);
	vdgfe_cmd_free(fe, cursor);
	free_fenced(fe, f, MAX_PENDING_FENCES);
	free(f);
	fprintf(stderr, "test-3d: %u fenced commands in flight, answered in %.2f s\n",
	        MAX_PENDING_FENCES, now_s() - t0);
	/* the daemon held exactly the limit at once, and never more */
	assert_true(itest_daemon_log_contains(&own, " (1024 pending)"));
	assert_false(itest_daemon_log_contains(&own, "(1025 pending)"));
	fprintf(stderr, "test-3d: the fenced cursor command, the 1025th, was %s\n",
	        itest_daemon_log_contains(&own, "fence 1025 held") ? "held (fences had retired)"
	                                                           : "answered at once");
	/* fences keep working after the full ring */
	fenced_work_completes_on(fe, 2, 10);
	itest_fe_destroy();
	assert_int_equal(itest_daemon_stop(&own), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_fence_thread_policy, itest_teardown),
	        cmocka_unit_test_teardown(test_fence_order, itest_teardown),
	        cmocka_unit_test_teardown(test_fence_error_immediate, itest_teardown),
	        cmocka_unit_test_teardown(test_fence_64bit_ids, itest_teardown),
	        cmocka_unit_test_teardown(test_fence_many_rounds, itest_teardown),
	        cmocka_unit_test_teardown(test_fence_rings, itest_teardown),
	        cmocka_unit_test_teardown(test_fence_ring_ctx_destroy, itest_teardown),
	        cmocka_unit_test_teardown(test_fence_ring_without_context_init, itest_teardown),
	        cmocka_unit_test_teardown(test_reconnect, itest_teardown),
	        cmocka_unit_test_teardown(test_stop_restart_with_fences, itest_teardown),
	        cmocka_unit_test_teardown(test_fence_limit, own_teardown),
	};

	itest_init(argc, argv);
	/* itest_exit: a failed fixture (a sanitizer report at the daemon's exit) fails the run */
	return itest_exit(cmocka_run_group_tests(tests, group_setup, itest_group_teardown));
}
