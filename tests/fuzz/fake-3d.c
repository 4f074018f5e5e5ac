/* SPDX-License-Identifier: MIT */
/*
 * A stand-in 3D renderer for fuzz-gpu-cmd, so the fuzzer reaches the
 * device's 3D handlers and its fence logic (global and per-ring timelines,
 * contexts destroyed with fences pending, the dma-buf scanout path) without
 * Mesa. 2D work goes to the real pixman renderer; 3D objects are only
 * bookkept. Fences retire through an eventfd in the loop, as through
 * virglrenderer's poll fd: global ones up to the last created, context
 * ones one report each, on the loop's next round.
 * Like virglrenderer's GL contexts, only ring 0 has context fences, and a
 * destroyed context's fences never retire.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fake-3d.h"
#include "id-table.h"

/* As many as the device allows. */
#define FAKE_MAX_OBJECTS 16384
/* Context fences waiting at once; past it the device falls back to a global fence. */
#define FAKE_MAX_CTX_FENCES 64
/* Exported buffers are memfds of the image: keep them small. */
#define FAKE_MAX_EXPORT_BYTES (4u << 20)
/* A SUBMIT_3D stream starting with this word fails, as a bad stream would. */
#define FAKE_BAD_STREAM 0xdeadbeefu

struct fake_size {
	uint32_t width, height;
};

struct fake3d {
	struct rnd_renderer base;
	struct rnd_renderer *pixman;
	int poll_fd; /* readable while fences wait */
	struct event_source *poll_src;
	struct rnd_fence_events fences;
	struct id_table sizes;    /* 2D resource id -> struct fake_size */
	struct id_table res3d;    /* 3D resource ids */
	struct id_table contexts; /* context ids */
	uint64_t global_pending;  /* last global fence created, 0 if none waits */
	struct {
		uint32_t ctx, ring;
		uint64_t seq;
	} ctx_fences[FAKE_MAX_CTX_FENCES];
	unsigned int nctx_fences;
};

static const struct rnd_ops fake_ops;

/* Non-NULL marker for id tables that only need the id. */
static int present;

static struct fake3d *fake(struct rnd_renderer *r)
{
	return (struct fake3d *)r;
}

static void retire(void *data, int fd, uint32_t events)
{
	struct fake3d *f = data;
	eventfd_t drained;
	uint64_t global = f->global_pending;
	unsigned int n = f->nctx_fences;
	__typeof__(f->ctx_fences) done;

	eventfd_read(f->poll_fd, &drained);
	/* copy first: the callbacks answer commands, which may create fences */
	memcpy(done, f->ctx_fences, sizeof(done));
	f->global_pending = 0;
	f->nctx_fences = 0;
	if (global && f->fences.retired) {
		f->fences.retired(f->fences.data, global);
	}
	for (unsigned int i = 0; i < n && f->fences.context_retired; i++) {
		f->fences.context_retired(f->fences.data, done[i].ctx, done[i].ring, done[i].seq);
	}
}

static void clear_table(struct id_table *t, bool owned)
{
	size_t iter = 0;
	uint32_t id;
	void *v;

	while (owned && id_table_next(t, &iter, &id, &v)) {
		free(v);
	}
	id_table_finish(t);
}

static void fake_destroy(struct rnd_renderer *r)
{
	struct fake3d *f = fake(r);

	event_source_remove(f->poll_src);
	close(f->poll_fd);
	clear_table(&f->sizes, true);
	clear_table(&f->res3d, false);
	clear_table(&f->contexts, false);
	rnd_destroy(f->pixman);
	free(f);
}

static int fake_create_2d(struct rnd_renderer *r, const struct rnd_create_2d *a)
{
	struct fake3d *f = fake(r);
	struct fake_size *s = malloc(sizeof(*s));
	int ret;

	if (!s) {
		return -ENOMEM;
	}
	*s = (struct fake_size){ a->width, a->height };
	ret = id_table_insert(&f->sizes, a->resource_id, s);
	if (ret == 0) {
		ret = rnd_resource_create_2d(f->pixman, a);
		if (ret < 0) {
			id_table_remove(&f->sizes, a->resource_id);
		}
	}
	if (ret < 0) {
		free(s);
	}
	return ret;
}

static void fake_resource_destroy(struct rnd_renderer *r, uint32_t id)
{
	struct fake3d *f = fake(r);

	if (id_table_remove(&f->res3d, id)) {
		return;
	}
	free(id_table_remove(&f->sizes, id));
	rnd_resource_destroy(f->pixman, id);
}

static int fake_transfer_2d(struct rnd_renderer *r, uint32_t id, const struct rnd_rect *rect,
	uint64_t offset, const struct rnd_backing *backing)
{
	return id_table_lookup(&fake(r)->res3d, id) ?
		       0 :
		       rnd_transfer_to_host_2d(fake(r)->pixman, id, rect, offset, backing);
}

static int fake_read_pixels(struct rnd_renderer *r, uint32_t id, const struct rnd_rect *rect,
	struct rnd_pixels *px)
{
	return rnd_read_pixels(fake(r)->pixman, id, rect, px);
}

static int fake_cursor_image(struct rnd_renderer *r, uint32_t id, uint32_t *argb, uint32_t w,
	uint32_t h)
{
	return rnd_cursor_image(fake(r)->pixman, id, argb, w, h);
}

static unsigned int fake_num_capsets(struct rnd_renderer *r)
{
	return 2;
}

static int fake_capset_info(struct rnd_renderer *r, unsigned int index, uint32_t *id,
	uint32_t *max_version, uint32_t *max_size)
{
	if (index >= 2) {
		return -EINVAL;
	}
	*id = index + 1; /* VIRGL, VIRGL2 */
	*max_version = index + 1;
	*max_size = index ? 96 : 64;
	return 0;
}

static int fake_fill_capset(struct rnd_renderer *r, uint32_t id, uint32_t version, void *buf,
	uint32_t size)
{
	memset(buf, (int)(0x40 + id), size);
	return 0;
}

static int fake_create_3d(struct rnd_renderer *r, const struct rnd_create_3d *a)
{
	struct fake3d *f = fake(r);

	if (a->format == 0 || a->width == 0 || id_table_lookup(&f->sizes, a->resource_id)) {
		return -EINVAL;
	}
	return id_table_insert(&f->res3d, a->resource_id, &present);
}

static int fake_transfer_3d(struct rnd_renderer *r, const struct rnd_transfer_3d *t)
{
	struct fake3d *f = fake(r);

	return id_table_lookup(&f->res3d, t->resource_id) ||
			       id_table_lookup(&f->sizes, t->resource_id) ?
		       0 :
		       -EINVAL;
}

static int fake_ctx_create(struct rnd_renderer *r, uint32_t ctx_id, uint32_t capset_id,
	const char *name, uint32_t name_len)
{
	return id_table_insert(&fake(r)->contexts, ctx_id, &present);
}

static void fake_ctx_destroy(struct rnd_renderer *r, uint32_t ctx_id)
{
	struct fake3d *f = fake(r);
	unsigned int kept = 0;

	id_table_remove(&f->contexts, ctx_id);
	/* like virglrenderer: the context's fences go with it, unreported */
	for (unsigned int i = 0; i < f->nctx_fences; i++) {
		if (f->ctx_fences[i].ctx != ctx_id) {
			f->ctx_fences[kept++] = f->ctx_fences[i];
		}
	}
	f->nctx_fences = kept;
}

static void fake_ctx_resource(struct rnd_renderer *r, uint32_t ctx_id, uint32_t id)
{
}

static int fake_submit_3d(struct rnd_renderer *r, uint32_t ctx_id, void *buf, uint32_t size)
{
	uint32_t first = 0;

	if (!id_table_lookup(&fake(r)->contexts, ctx_id)) {
		return -EINVAL;
	}
	if (size >= 4) {
		memcpy(&first, buf, 4);
	}
	return first == FAKE_BAD_STREAM ? -EINVAL : 0;
}

static int fake_create_fence(struct rnd_renderer *r, uint64_t seq)
{
	struct fake3d *f = fake(r);

	f->global_pending = seq;
	eventfd_write(f->poll_fd, 1);
	return 0;
}

static int fake_create_context_fence(struct rnd_renderer *r, uint32_t ctx_id, uint32_t ring,
	uint64_t seq)
{
	struct fake3d *f = fake(r);

	if (ring != 0 || !id_table_lookup(&f->contexts, ctx_id) ||
		f->nctx_fences == FAKE_MAX_CTX_FENCES) {
		return -EINVAL;
	}
	f->ctx_fences[f->nctx_fences].ctx = ctx_id;
	f->ctx_fences[f->nctx_fences].ring = ring;
	f->ctx_fences[f->nctx_fences].seq = seq;
	f->nctx_fences++;
	eventfd_write(f->poll_fd, 1);
	return 0;
}

static void fake_set_fence_events(struct rnd_renderer *r, const struct rnd_fence_events *e)
{
	fake(r)->fences = *e;
}

/* A memfd the size of the image: the device only passes the fd on. */
static int fake_export(struct rnd_renderer *r, uint32_t id, struct rnd_dmabuf *out)
{
	struct fake_size *s = id_table_lookup(&fake(r)->sizes, id);
	uint64_t bytes;
	int fd;

	if (!s) {
		return -EINVAL;
	}
	bytes = (uint64_t)s->width * s->height * 4;
	if (bytes > FAKE_MAX_EXPORT_BYTES) {
		return -EOPNOTSUPP;
	}
	fd = memfd_create("fake-3d-dmabuf", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0) {
		if (fd >= 0) {
			close(fd);
		}
		return -ENOMEM;
	}
	*out = (struct rnd_dmabuf){
		.fd = fd,
		.width = s->width,
		.height = s->height,
		.stride = s->width * 4,
		.drm_fourcc = 0x34325258u, /* XR24 */
		.modifier = RND_DMABUF_MOD_INVALID,
		.y0_top = (id & 1) != 0,
	};
	return 0;
}

static void fake_reset(struct rnd_renderer *r)
{
	struct fake3d *f = fake(r);

	clear_table(&f->contexts, false);
	id_table_init(&f->contexts, FAKE_MAX_OBJECTS);
	clear_table(&f->res3d, false);
	id_table_init(&f->res3d, FAKE_MAX_OBJECTS);
	f->global_pending = 0;
	f->nctx_fences = 0;
}

static const struct rnd_ops fake_ops = {
	.name = "fake 3D (fuzzing)",
	.destroy = fake_destroy,
	.resource_create_2d = fake_create_2d,
	.resource_destroy = fake_resource_destroy,
	.transfer_to_host_2d = fake_transfer_2d,
	.read_pixels = fake_read_pixels,
	.cursor_image = fake_cursor_image,
	.num_capsets = fake_num_capsets,
	.capset_info = fake_capset_info,
	.fill_capset = fake_fill_capset,
	.resource_create_3d = fake_create_3d,
	.transfer_3d = fake_transfer_3d,
	.ctx_create = fake_ctx_create,
	.ctx_destroy = fake_ctx_destroy,
	.ctx_attach_resource = fake_ctx_resource,
	.ctx_detach_resource = fake_ctx_resource,
	.submit_3d = fake_submit_3d,
	.create_fence = fake_create_fence,
	.create_context_fence = fake_create_context_fence,
	.set_fence_events = fake_set_fence_events,
	.export_dmabuf = fake_export,
	.reset = fake_reset,
};

struct rnd_renderer *fake3d_create(struct event_loop *loop)
{
	struct fake3d *f = calloc(1, sizeof(*f));

	if (!f) {
		return NULL;
	}
	f->pixman = rnd_pixman_create();
	f->poll_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->poll_src = f->poll_fd < 0 ? NULL : event_loop_add_fd(loop, f->poll_fd, EPOLLIN, retire, f);
	if (!f->pixman || !f->poll_src) {
		if (f->pixman) {
			rnd_destroy(f->pixman);
		}
		if (f->poll_fd >= 0) {
			close(f->poll_fd);
		}
		free(f);
		return NULL;
	}
	id_table_init(&f->sizes, FAKE_MAX_OBJECTS);
	id_table_init(&f->res3d, FAKE_MAX_OBJECTS);
	id_table_init(&f->contexts, FAKE_MAX_OBJECTS);
	rnd_init(&f->base, &fake_ops);
	return &f->base;
}
