/* SPDX-License-Identifier: MIT */
/*
 * The virglrenderer backend (--gpu-mode virglrenderer). virglrenderer keeps
 * its own table of resources and contexts by the guest's ids; we keep, per
 * resource, the iovec array it borrows for the backing (it stores the
 * pointer) and what the display path needs.
 *
 * Fences: THREAD_SYNC makes virglrenderer wait for GPU work in its own
 * thread and signal an eventfd (its poll fd), which is a source in our one
 * loop; virgl_renderer_poll() then runs write_fence() on the loop thread.
 * Without a poll fd, a short timer polls only while fences are pending.
 */
#define VIRGL_RENDERER_UNSTABLE_APIS 1

#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pixman.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/virtio_gpu.h>
#include <virglrenderer.h>

#include "checked.h"
#include "event-loop.h"
#include "id-table.h"
#include "log.h"
#include "render-util.h"
#include "renderer.h"

/* The device limits resources; this table only mirrors what it allows. */
#define VIRGL_MAX_RESOURCES (1u << 20)
/* Capsets virglrenderer's GL renderer offers: VIRGL and VIRGL2. */
#define VIRGL_MAX_CAPSETS 2
/* Poll interval when virglrenderer gives no poll fd and fences are pending. */
#define VIRGL_FENCE_POLL_MS 2
/* gallium's PIPE_TEXTURE_2D and VIRGL_RES_BIND_RENDER_TARGET, as QEMU uses them for 2D */
#define VIRGL_TARGET_TEXTURE_2D 2
#define VIRGL_BIND_RENDER_TARGET (1u << 1)

struct virgl_res {
	uint32_t format;
	uint32_t width;
	uint32_t height;
	struct iovec *iov; /* borrowed by virglrenderer while attached */
	int niov;
};

struct rnd_virgl {
	struct rnd_renderer base; /* first: the interface */
	struct event_loop *loop;
	struct event_source *poll_src;
	struct event_source *poll_timer;
	struct rnd_fence_events fences;
	struct virgl_renderer_callbacks cb;
	char *render_node;
	struct id_table resources;
	unsigned int ncapsets;
	uint32_t capset_id[VIRGL_MAX_CAPSETS];
	uint32_t capset_max_version[VIRGL_MAX_CAPSETS];
	uint32_t capset_max_size[VIRGL_MAX_CAPSETS];
	struct rnd_scratch scratch;
	bool gles; /* the host context is GLES (--use-gles true) */
	/* a texture could be exported at start-up: offer export_dmabuf */
	bool can_export;
	uint64_t last_fence;    /* the last sequence number given to virglrenderer */
	uint64_t retired_fence; /* the last one it reported done */
	/* context fences created and not reported yet (never merged: one report each) */
	uint64_t context_fences_pending;
};

static const struct rnd_ops virgl_ops;

/* virglrenderer has process-wide state: one renderer per process. */
static struct rnd_virgl *the_renderer;

static struct rnd_virgl *virgl_from_base(struct rnd_renderer *r)
{
	return r->ops == &virgl_ops ? (struct rnd_virgl *)r : NULL;
}

/* ---- callbacks from virglrenderer (loop thread) ---- */

static void virgl_write_fence(void *cookie, uint32_t fence)
{
	struct rnd_virgl *vr = cookie;
	/* widen: virglrenderer keeps 32 bits; our sequence numbers are 64-bit */
	uint64_t seq = vr->last_fence - (uint32_t)((uint32_t)vr->last_fence - fence);

	log_trace("virgl fence %u retired", fence);
	if (seq <= vr->retired_fence) {
		return;
	}
	vr->retired_fence = seq;
	if (vr->fences.retired) {
		vr->fences.retired(vr->fences.data, seq);
	}
}

static int virgl_get_drm_fd(void *cookie)
{
	struct rnd_virgl *vr = cookie;
	int fd;

	if (!vr->render_node) {
		return -1;
	}
	fd = open(vr->render_node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		log_error("cannot open render node %s: %s", vr->render_node, strerror(errno));
	}
	return fd;
}

static void virgl_write_context_fence(void *cookie, uint32_t ctx_id, uint32_t ring_idx,
	uint64_t fence_id)
{
	struct rnd_virgl *vr = cookie;

	log_trace("virgl context %u ring %u fence %llu retired", ctx_id, ring_idx,
		(unsigned long long)fence_id);
	if (vr->context_fences_pending > 0) {
		vr->context_fences_pending--;
	}
	if (vr->fences.context_retired) {
		vr->fences.context_retired(vr->fences.data, ctx_id, ring_idx, fence_id);
	}
}

static void virgl_debug(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void virgl_debug(const char *fmt, va_list ap)
{
	log_vmsg(LOG_LEVEL_DEBUG, fmt, ap);
}

static bool fences_pending(struct rnd_virgl *vr)
{
	return vr->retired_fence < vr->last_fence || vr->context_fences_pending > 0;
}

static void on_poll_fd(void *data, int fd, uint32_t events)
{
	log_trace("virgl poll fd ready");
	virgl_renderer_poll(); /* drains the fd, runs write_fence */
}

static void on_poll_timer(void *data)
{
	struct rnd_virgl *vr = data;

	virgl_renderer_poll();
	if (fences_pending(vr)) {
		event_source_timer_arm(vr->poll_timer, VIRGL_FENCE_POLL_MS);
	}
}

/* ---- resources ---- */

static void res_detach_iov(uint32_t id, struct virgl_res *res)
{
	struct iovec *iov = NULL;
	int n = 0;

	if (res->iov) {
		virgl_renderer_resource_detach_iov((int)id, &iov, &n);
		free(res->iov);
		res->iov = NULL;
		res->niov = 0;
	}
}

static int res_insert(struct rnd_virgl *vr, uint32_t id, uint32_t format, uint32_t width,
	uint32_t height)
{
	struct virgl_res *res = calloc(1, sizeof(*res));
	int r;

	if (!res) {
		return -ENOMEM;
	}
	res->format = format;
	res->width = width;
	res->height = height;
	r = id_table_insert(&vr->resources, id, res);
	if (r < 0) {
		free(res);
	}
	return r;
}

static int errno_of(int virgl_ret)
{
	/* virglrenderer returns -1, -errno or +errno: fold into -errno */
	if (virgl_ret == 0) {
		return 0;
	}
	if (virgl_ret == ENOMEM || virgl_ret == -ENOMEM) {
		return -ENOMEM;
	}
	return -EINVAL;
}

static int create(struct rnd_virgl *vr, struct virgl_renderer_resource_create_args *args)
{
	int r;

	virgl_renderer_force_ctx_0();
	r = errno_of(virgl_renderer_resource_create(args, NULL, 0));
	if (r < 0) {
		return r;
	}
	r = res_insert(vr, args->handle, args->format, args->width, args->height);
	if (r < 0) {
		virgl_renderer_resource_unref(args->handle);
	}
	return r;
}

static int virgl_resource_create_2d(struct rnd_renderer *base, const struct rnd_create_2d *a)
{
	/*
	 * virglrenderer 0.10.4 on GLES emulates A8B8G8R8 and reads it back
	 * wrong (the last row comes back shifted): refuse it, as it refuses the
	 * other formats GLES lacks, rather than show wrong pixels.
	 */
	if (virgl_from_base(base)->gles && a->format == VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM) {
		return -EINVAL;
	}
	struct virgl_renderer_resource_create_args args = {
		.handle = a->resource_id,
		.target = VIRGL_TARGET_TEXTURE_2D,
		.format = a->format, /* 2D virtio formats are virgl format numbers */
		.bind = VIRGL_BIND_RENDER_TARGET,
		.width = a->width,
		.height = a->height,
		.depth = 1,
		.array_size = 1,
		.flags = VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP,
	};

	return create(virgl_from_base(base), &args);
}

static int virgl_resource_create_3d(struct rnd_renderer *base, const struct rnd_create_3d *a)
{
	struct virgl_renderer_resource_create_args args = {
		.handle = a->resource_id,
		.target = a->target,
		.format = a->format,
		.bind = a->bind,
		.width = a->width,
		.height = a->height,
		.depth = a->depth,
		.array_size = a->array_size,
		.last_level = a->last_level,
		.nr_samples = a->nr_samples,
		.flags = a->flags,
	};

	return create(virgl_from_base(base), &args);
}

static void virgl_resource_destroy(struct rnd_renderer *base, uint32_t id)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_remove(&vr->resources, id);

	if (!res) {
		return;
	}
	virgl_renderer_force_ctx_0();
	res_detach_iov(id, res);
	virgl_renderer_resource_unref(id);
	free(res);
}

/* Host iovecs for the backing, translated now; entries may straddle regions. */
static int backing_to_iov(const struct rnd_backing *b, struct iovec **ret_iov, int *ret_n)
{
	size_t cap = b->n ? b->n : 1, n = 0;
	struct iovec *iov = malloc(cap * sizeof(*iov));

	if (!iov) {
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < b->n; i++) {
		uint64_t gpa = b->entries[i].gpa, left = b->entries[i].len;

		while (left > 0) {
			uint64_t contig;
			void *host = vu_mem_translate(b->mem, VU_ADDR_GPA, gpa, left, &contig);

			if (!host) {
				free(iov);
				return -EFAULT;
			}
			if (n == cap) {
				struct iovec *bigger = realloc(iov, cap * 2 * sizeof(*iov));

				if (!bigger) {
					free(iov);
					return -ENOMEM;
				}
				iov = bigger;
				cap *= 2;
			}
			iov[n++] = (struct iovec){ host, (size_t)contig };
			gpa += contig;
			left -= contig;
		}
	}
	*ret_iov = iov;
	*ret_n = (int)n;
	return 0;
}

static int virgl_attach_backing(struct rnd_renderer *base, uint32_t id,
	const struct rnd_backing *backing)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_lookup(&vr->resources, id);
	struct iovec *iov;
	int n, r;

	if (!res) {
		return -EINVAL;
	}
	virgl_renderer_force_ctx_0();
	res_detach_iov(id, res);
	r = backing_to_iov(backing, &iov, &n);
	if (r < 0) {
		return r;
	}
	r = errno_of(virgl_renderer_resource_attach_iov((int)id, iov, n));
	if (r < 0) {
		free(iov);
		return r;
	}
	res->iov = iov;
	res->niov = n;
	return 0;
}

static void virgl_detach_backing(struct rnd_renderer *base, uint32_t id)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_lookup(&vr->resources, id);

	if (res) {
		virgl_renderer_force_ctx_0();
		res_detach_iov(id, res);
	}
}

static int virgl_transfer_to_host_2d(struct rnd_renderer *base, uint32_t id,
	const struct rnd_rect *rect, uint64_t offset, const struct rnd_backing *backing)
{
	struct virtio_gpu_box box = { rect->x, rect->y, 0, rect->width, rect->height, 1 };

	virgl_renderer_force_ctx_0();
	/* the attached iovecs are the backing; ctx 0 is the 2D path */
	return errno_of(virgl_renderer_transfer_write_iov(id, 0, 0, 0, 0,
		(struct virgl_box *)&box, offset, NULL, 0));
}

static int virgl_transfer_3d(struct rnd_renderer *base, const struct rnd_transfer_3d *t)
{
	struct virtio_gpu_box box = { t->x, t->y, t->z, t->w, t->h, t->d };

	virgl_renderer_force_ctx_0();
	if (t->to_host) {
		return errno_of(virgl_renderer_transfer_write_iov(t->resource_id, t->ctx_id,
			(int)t->level, t->stride, t->layer_stride, (struct virgl_box *)&box,
			t->offset, NULL, 0));
	}
	return errno_of(virgl_renderer_transfer_read_iov(t->resource_id, t->ctx_id, t->level,
		t->stride, t->layer_stride, (struct virgl_box *)&box, t->offset, NULL, 0));
}

/*
 * Reads rect of a resource back from its GL texture into scratch memory, in
 * the resource's own format, tightly packed. The buffer is zeroed first:
 * virglrenderer 0.10.4 on GLES does not fill it for every format, and stale
 * heap bytes must never reach the display.
 */
static int read_back(struct rnd_virgl *vr, uint32_t id, const struct rnd_rect *rect,
	size_t extra, uint8_t **ret)
{
	struct virtio_gpu_box box = { rect->x, rect->y, 0, rect->width, rect->height, 1 };
	size_t stride = (size_t)rect->width * 4, size = stride * rect->height;
	struct iovec iov;
	int r;

	r = rnd_scratch_reserve(&vr->scratch, size + extra + 4);
	if (r < 0) {
		return r;
	}
	memset(vr->scratch.data, 0, size);
	iov = (struct iovec){ vr->scratch.data, size };
	virgl_renderer_force_ctx_0();
	r = errno_of(virgl_renderer_transfer_read_iov(id, 0, 0, (uint32_t)stride, 0,
		(struct virgl_box *)&box, 0, &iov, 1));
	*ret = vr->scratch.data;
	return r;
}

/* Converts a tightly packed rect from one pixman format into another buffer. */
static int convert(pixman_format_code_t from, void *src, pixman_format_code_t to, void *dst,
	uint32_t width, uint32_t height)
{
	pixman_image_t *s = pixman_image_create_bits(from, (int)width, (int)height, src,
		(int)width * 4);
	pixman_image_t *d = pixman_image_create_bits(to, (int)width, (int)height, dst,
		(int)width * 4);
	int r = (s && d) ? 0 : -ENOMEM;

	if (r == 0) {
		pixman_image_composite32(PIXMAN_OP_SRC, s, NULL, d, 0, 0, 0, 0, 0, 0,
			(int32_t)width, (int32_t)height);
	}
	if (s) {
		pixman_image_unref(s);
	}
	if (d) {
		pixman_image_unref(d);
	}
	return r;
}

/* Reads the rect back from the GL texture: the display path when nothing is exported. */
static int virgl_read_pixels(struct rnd_renderer *base, uint32_t id, const struct rnd_rect *rect,
	struct rnd_pixels *ret)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_lookup(&vr->resources, id);
	size_t size = (size_t)rect->width * 4 * rect->height;
	pixman_format_code_t fmt;
	uint8_t *pixels;
	int r;

	if (!res || !rect_within(rect->x, rect->y, rect->width, rect->height, res->width,
			    res->height)) {
		return -EINVAL;
	}
	fmt = rnd_pixman_format(res->format);
	if (!fmt) {
		return -EOPNOTSUPP; /* not a format a display can show */
	}
	/* room for the conversion behind the readback */
	r = read_back(vr, id, rect, size, &pixels);
	if (r < 0) {
		return r;
	}
	ret->data = pixels;
	ret->stride = rect->width * 4;
	ret->stable = false;
	if (fmt != PIXMAN_x8r8g8b8 && fmt != PIXMAN_a8r8g8b8 && size > 0) {
		r = convert(fmt, pixels, PIXMAN_x8r8g8b8, pixels + size, rect->width, rect->height);
		if (r < 0) {
			return r;
		}
		ret->data = pixels + size;
	}
	return 0;
}

/*
 * The cursor image, read back like a scanout. virgl_renderer_get_cursor_data()
 * is not used: on a GLES host it returns red and blue swapped.
 */
static int virgl_cursor_image(struct rnd_renderer *base, uint32_t id, uint32_t *ret_argb,
	uint32_t width, uint32_t height)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	struct virgl_res *res = id_table_lookup(&vr->resources, id);
	struct rnd_rect rect = { 0, 0, width, height };
	pixman_format_code_t fmt;
	uint8_t *pixels;
	int r;

	if (!res || res->width != width || res->height != height) {
		return -EINVAL;
	}
	fmt = rnd_pixman_format(res->format);
	if (!fmt) {
		return -EINVAL;
	}
	r = read_back(vr, id, &rect, 0, &pixels);
	if (r < 0) {
		return r;
	}
	return convert(fmt, pixels, PIXMAN_a8r8g8b8, ret_argb, width, height);
}

/* ---- capsets, contexts, submission, fences ---- */

static unsigned int virgl_num_capsets(struct rnd_renderer *base)
{
	return virgl_from_base(base)->ncapsets;
}

static int virgl_capset_info(struct rnd_renderer *base, unsigned int index, uint32_t *ret_id,
	uint32_t *ret_max_version, uint32_t *ret_max_size)
{
	struct rnd_virgl *vr = virgl_from_base(base);

	if (index >= vr->ncapsets) {
		return -EINVAL;
	}
	*ret_id = vr->capset_id[index];
	*ret_max_version = vr->capset_max_version[index];
	*ret_max_size = vr->capset_max_size[index];
	return 0;
}

static int virgl_fill_capset(struct rnd_renderer *base, uint32_t id, uint32_t version, void *buf,
	uint32_t size)
{
	struct rnd_virgl *vr = virgl_from_base(base);

	for (unsigned int i = 0; i < vr->ncapsets; i++) {
		if (vr->capset_id[i] == id) {
			if (size != vr->capset_max_size[i] || version > vr->capset_max_version[i]) {
				return -EINVAL;
			}
			memset(buf, 0, size);
			virgl_renderer_fill_caps(id, version, buf);
			return 0;
		}
	}
	return -EINVAL;
}

static int virgl_ctx_create(struct rnd_renderer *base, uint32_t ctx_id, uint32_t capset_id,
	const char *name, uint32_t name_len)
{
	virgl_renderer_force_ctx_0();
	if (capset_id == 0) {
		return errno_of(virgl_renderer_context_create(ctx_id, name_len, name));
	}
	return errno_of(virgl_renderer_context_create_with_flags(ctx_id, capset_id, name_len,
		name));
}

static void virgl_ctx_destroy(struct rnd_renderer *base, uint32_t ctx_id)
{
	virgl_renderer_force_ctx_0();
	virgl_renderer_context_destroy(ctx_id);
}

static void virgl_ctx_attach_resource(struct rnd_renderer *base, uint32_t ctx_id, uint32_t id)
{
	virgl_renderer_force_ctx_0();
	virgl_renderer_ctx_attach_resource((int)ctx_id, (int)id);
}

static void virgl_ctx_detach_resource(struct rnd_renderer *base, uint32_t ctx_id, uint32_t id)
{
	virgl_renderer_force_ctx_0();
	virgl_renderer_ctx_detach_resource((int)ctx_id, (int)id);
}

static int virgl_submit_3d(struct rnd_renderer *base, uint32_t ctx_id, void *buf, uint32_t size)
{
	virgl_renderer_force_ctx_0();
	return errno_of(virgl_renderer_submit_cmd(buf, (int)ctx_id, (int)(size / 4)));
}

static int virgl_create_fence(struct rnd_renderer *base, uint64_t seq)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	int r;

	virgl_renderer_force_ctx_0();
	vr->last_fence = seq;
	r = errno_of(virgl_renderer_create_fence((int)(uint32_t)seq, 0));
	if (r == 0 && !vr->poll_src) {
		event_source_timer_arm(vr->poll_timer, VIRGL_FENCE_POLL_MS);
	}
	return r;
}

static int virgl_create_context_fence(struct rnd_renderer *base, uint32_t ctx_id,
	uint32_t ring_idx, uint64_t seq)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	/* not MERGEABLE: one report per fence keeps context_fences_pending exact */
	int r = errno_of(virgl_renderer_context_create_fence(ctx_id, 0, ring_idx, seq));

	if (r < 0) {
		return r;
	}
	vr->context_fences_pending++;
	if (!vr->poll_src) {
		event_source_timer_arm(vr->poll_timer, VIRGL_FENCE_POLL_MS);
	}
	return 0;
}

static void virgl_set_fence_events(struct rnd_renderer *base, const struct rnd_fence_events *f)
{
	virgl_from_base(base)->fences = *f;
}

static void free_all_resources(struct rnd_virgl *vr)
{
	size_t iter = 0;
	uint32_t id;
	void *value;

	while (id_table_next(&vr->resources, &iter, &id, &value)) {
		struct virgl_res *res = value;

		res_detach_iov(id, res);
		virgl_renderer_resource_unref(id);
		free(res);
	}
	id_table_finish(&vr->resources);
}

static void virgl_reset(struct rnd_renderer *base)
{
	struct rnd_virgl *vr = virgl_from_base(base);

	/*
	 * Not virgl_renderer_reset(): in 0.10.4 it stops the fence thread and
	 * never starts it again (vrend_renderer_reset's "TODO respawn sync
	 * thread"), so no fence would retire after a RESET_DEVICE. The device
	 * has destroyed every context already; the resources go here.
	 */
	virgl_renderer_force_ctx_0();
	free_all_resources(vr);
	/* fences of the old session will never be reported to anyone */
	vr->retired_fence = vr->last_fence;
}

static void virgl_destroy(struct rnd_renderer *base)
{
	struct rnd_virgl *vr = virgl_from_base(base);

	virgl_renderer_force_ctx_0();
	free_all_resources(vr);
	event_source_remove(vr->poll_src);
	event_source_remove(vr->poll_timer);
	virgl_renderer_cleanup(vr);
	free(vr->render_node);
	rnd_scratch_finish(&vr->scratch);
	free(vr);
	the_renderer = NULL;
}

/* ---- dma-buf export ---- */

/* Resource flag of virgl_renderer_resource_info: rows stored top-down. */
#define VIRGL_INFO_FLAG_Y_0_TOP (1u << 0)

static int export_texture(uint32_t id, struct rnd_dmabuf *out, char *why, size_t why_len)
{
	struct virgl_renderer_resource_info info;
	int fd = -1, stride = 0, offset = 0;

	memset(&info, 0, sizeof(info));
	if (virgl_renderer_resource_get_info((int)id, &info) != 0 || info.tex_id == 0) {
		snprintf(why, why_len, "resource %u has no texture", id);
		return -EINVAL;
	}
	if (virgl_renderer_get_fd_for_texture2(info.tex_id, &fd, &stride, &offset) != 0 || fd < 0) {
		snprintf(why, why_len, "the EGL driver cannot export textures as dma-bufs "
			"(EGL_MESA_image_dma_buf_export needs a render node)");
		return -EOPNOTSUPP;
	}
	/* the display protocol has no offset: a texture not at 0 cannot be shown */
	if (offset != 0 || stride <= 0 || info.drm_fourcc == 0) {
		snprintf(why, why_len, "exported texture has offset %d, stride %d, fourcc 0x%x",
			offset, stride, (unsigned int)info.drm_fourcc);
		close(fd);
		return -EOPNOTSUPP;
	}
	*out = (struct rnd_dmabuf){
		.fd = fd,
		.width = info.width,
		.height = info.height,
		.stride = (uint32_t)stride,
		.drm_fourcc = (uint32_t)info.drm_fourcc,
		/* 0.10.4 does not tell the modifier: the driver's implicit one */
		.modifier = RND_DMABUF_MOD_INVALID,
		.y0_top = (info.flags & VIRGL_INFO_FLAG_Y_0_TOP) != 0,
	};
	return 0;
}

static int virgl_export_dmabuf(struct rnd_renderer *base, uint32_t id, struct rnd_dmabuf *out)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	char why[160];
	int r;

	if (!vr->can_export) {
		return -EOPNOTSUPP;
	}
	if (!id_table_lookup(&vr->resources, id)) {
		return -EINVAL;
	}
	virgl_renderer_force_ctx_0();
	r = export_texture(id, out, why, sizeof(why));
	if (r < 0) {
		log_guest("dma-buf export of resource %u failed: %s", id, why);
	}
	return r;
}

/*
 * Start-up probe: can this GL stack export a scanout-like texture at all?
 * A throw-away resource with an id no guest has yet (none is connected).
 */
#define VIRGL_PROBE_RESOURCE_ID 0xfffffff0u
#define VIRGL_PROBE_SIZE 64

static bool probe_export(char *why, size_t why_len)
{
	struct virgl_renderer_resource_create_args args = {
		.handle = VIRGL_PROBE_RESOURCE_ID,
		.target = VIRGL_TARGET_TEXTURE_2D,
		.format = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
		.bind = VIRGL_BIND_RENDER_TARGET,
		.width = VIRGL_PROBE_SIZE,
		.height = VIRGL_PROBE_SIZE,
		.depth = 1,
		.array_size = 1,
		.flags = VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP,
	};
	struct rnd_dmabuf buf;
	int r;

	virgl_renderer_force_ctx_0();
	if (virgl_renderer_resource_create(&args, NULL, 0) != 0) {
		snprintf(why, why_len, "cannot create a test texture");
		return false;
	}
	r = export_texture(VIRGL_PROBE_RESOURCE_ID, &buf, why, why_len);
	virgl_renderer_resource_unref(VIRGL_PROBE_RESOURCE_ID);
	if (r == 0) {
		close(buf.fd);
	}
	return r == 0;
}

static const struct rnd_ops virgl_ops = {
	.name = "virglrenderer",
	.destroy = virgl_destroy,
	.resource_create_2d = virgl_resource_create_2d,
	.resource_destroy = virgl_resource_destroy,
	.transfer_to_host_2d = virgl_transfer_to_host_2d,
	.read_pixels = virgl_read_pixels,
	.cursor_image = virgl_cursor_image,
	.attach_backing = virgl_attach_backing,
	.detach_backing = virgl_detach_backing,
	.num_capsets = virgl_num_capsets,
	.capset_info = virgl_capset_info,
	.fill_capset = virgl_fill_capset,
	.resource_create_3d = virgl_resource_create_3d,
	.transfer_3d = virgl_transfer_3d,
	.ctx_create = virgl_ctx_create,
	.ctx_destroy = virgl_ctx_destroy,
	.ctx_attach_resource = virgl_ctx_attach_resource,
	.ctx_detach_resource = virgl_ctx_detach_resource,
	.submit_3d = virgl_submit_3d,
	.create_fence = virgl_create_fence,
	.create_context_fence = virgl_create_context_fence,
	.export_dmabuf = virgl_export_dmabuf,
	.set_fence_events = virgl_set_fence_events,
	.reset = virgl_reset,
};

/* Character devices of the DRM subsystem (linux/major.h DRM_MAJOR). */
#define DRM_CHAR_MAJOR 226

/*
 * The user named a node: it must be there and be DRM, or virglrenderer
 * would quietly fall back to another device (or to software).
 */
static int check_render_node(const char *path, char *err, size_t err_len)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, err_len, "cannot open --render-node %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != DRM_CHAR_MAJOR) {
		snprintf(err, err_len, "--render-node %s is not a DRM device (such as "
			"/dev/dri/renderD128)", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The first of these libepoxy can load, or NULL with a message. */
static bool can_load_one(const char *const *names)
{
	for (; *names; names++) {
		void *h = dlopen(*names, RTLD_LAZY | RTLD_LOCAL);

		if (h) {
			dlclose(h);
			return true;
		}
	}
	return false;
}

/*
 * libepoxy abort()s when the GL library it wants is missing: look first,
 * so a host without them gets exit status 1 and a line naming the package.
 */
static int check_gl_libraries(const struct rnd_virgl_config *cfg, char *err, size_t err_len)
{
	static const char *const egl[] = { "libEGL.so.1", NULL };
	static const char *const gles[] = { "libGLESv2.so.2", NULL };
	static const char *const gl[] = { "libOpenGL.so.0", "libGL.so.1", NULL };

	if (cfg->use_egl && !can_load_one(egl)) {
		snprintf(err, err_len, "libEGL.so.1 is missing (Debian: libegl1 libegl-mesa0)");
		return -1;
	}
	if (cfg->use_gles && !can_load_one(gles)) {
		snprintf(err, err_len, "--use-gles true needs libGLESv2.so.2, which is missing "
			"(Debian: libgles2)");
		return -1;
	}
	if (!cfg->use_gles && !can_load_one(gl)) {
		snprintf(err, err_len, "--use-gles false needs libOpenGL.so.0 or libGL.so.1, "
			"which are missing (Debian: libgl1)");
		return -1;
	}
	return 0;
}

struct rnd_renderer *rnd_virgl_create(struct event_loop *loop, const struct rnd_virgl_config *cfg,
	const struct rnd_fence_events *fences, char *err, size_t err_len)
{
	static const uint32_t known[VIRGL_MAX_CAPSETS] = { VIRTIO_GPU_CAPSET_VIRGL,
		VIRTIO_GPU_CAPSET_VIRGL2 };
	struct rnd_virgl *vr;
	int flags = VIRGL_RENDERER_THREAD_SYNC, r, poll_fd;

	if (the_renderer) {
		snprintf(err, err_len, "virglrenderer is already initialised in this process");
		return NULL;
	}
	if (cfg->render_node && check_render_node(cfg->render_node, err, err_len) < 0) {
		return NULL;
	}
	if (check_gl_libraries(cfg, err, err_len) < 0) {
		return NULL;
	}
	vr = calloc(1, sizeof(*vr));
	if (!vr) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	rnd_init(&vr->base, &virgl_ops);
	vr->loop = loop;
	if (fences) {
		vr->fences = *fences;
	}
	vr->render_node = cfg->render_node ? strdup(cfg->render_node) : NULL;
	id_table_init(&vr->resources, VIRGL_MAX_RESOURCES);
	flags |= cfg->use_egl ? VIRGL_RENDERER_USE_EGL : 0;
	flags |= cfg->use_glx ? VIRGL_RENDERER_USE_GLX : 0;
	flags |= cfg->use_gles ? VIRGL_RENDERER_USE_GLES : 0;
	vr->gles = cfg->use_gles;
	flags |= cfg->use_surfaceless ? VIRGL_RENDERER_USE_SURFACELESS : 0;
	vr->cb = (struct virgl_renderer_callbacks){
		.version = 3,
		.write_fence = virgl_write_fence,
		.get_drm_fd = virgl_get_drm_fd,
		.write_context_fence = virgl_write_context_fence,
	};
	virgl_set_debug_callback(virgl_debug);
	r = virgl_renderer_init(vr, flags, &vr->cb);
	if (r != 0) {
		snprintf(err, err_len,
			"virglrenderer could not start (%s%s%s%s, error %d). Without a GPU, "
			"--use-egl true --use-surfaceless true gives software GL (llvmpipe, package "
			"libegl-mesa0); with a GPU, name its render node (--render-node)%s",
			cfg->use_egl ? "EGL" : "", cfg->use_glx ? (cfg->use_egl ? "+GLX" : "GLX") : "",
			cfg->use_gles ? "+GLES" : "", cfg->use_surfaceless ? "+surfaceless" : "", r,
			cfg->use_glx && !cfg->use_egl ? "; GLX needs an X display (DISPLAY)" : "");
		id_table_finish(&vr->resources);
		free(vr->render_node);
		free(vr);
		return NULL;
	}
	the_renderer = vr;
	log_info("virglrenderer started (flags 0x%x)", (unsigned int)flags);

	for (unsigned int i = 0; i < VIRGL_MAX_CAPSETS; i++) {
		uint32_t max_version = 0, max_size = 0;

		if (!(cfg->capsets & (1u << known[i]))) {
			continue;
		}
		virgl_renderer_get_cap_set(known[i], &max_version, &max_size);
		if (max_size == 0 || (known[i] == VIRTIO_GPU_CAPSET_VIRGL2 && max_version == 0)) {
			continue;
		}
		vr->capset_id[vr->ncapsets] = known[i];
		vr->capset_max_version[vr->ncapsets] = max_version;
		vr->capset_max_size[vr->ncapsets] = max_size;
		vr->ncapsets++;
	}

	if (cfg->require_dmabuf || cfg->try_dmabuf) {
		char why[160];

		vr->can_export = probe_export(why, sizeof(why));
		if (!vr->can_export && cfg->require_dmabuf) {
			snprintf(err, err_len, "--scanout-mode dmabuf: %s; use --scanout-mode readback "
				"(or auto) on this host", why);
			virgl_destroy(&vr->base);
			return NULL;
		}
		if (vr->can_export) {
			log_info("scanouts reach the frontend as dma-bufs");
		} else {
			log_info("scanouts reach the frontend by readback (no dma-buf export: %s)", why);
		}
	}

	poll_fd = virgl_renderer_get_poll_fd();
	log_debug("virglrenderer poll fd %d", poll_fd);
	if (poll_fd >= 0) {
		vr->poll_src = event_loop_add_fd(loop, poll_fd, EPOLLIN, on_poll_fd, vr);
	}
	vr->poll_timer = event_loop_add_timer(loop, on_poll_timer, vr);
	if ((poll_fd >= 0 && !vr->poll_src) || !vr->poll_timer) {
		snprintf(err, err_len, "cannot watch virglrenderer's fences: %s", strerror(errno));
		virgl_destroy(&vr->base);
		return NULL;
	}
	return &vr->base;
}
