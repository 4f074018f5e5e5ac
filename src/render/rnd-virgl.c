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
 *
 * This file: start-up, capsets, contexts, submission, fences and the ops
 * table. Resources and read-back are in rnd-virgl-res.c, host checks and
 * dma-buf export in rnd-virgl-host.c.
 */
#include "rnd-virgl-priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/virtio_gpu.h>

#include "log.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/*
 * Mesa 22.3's swrast_dri.so keeps a block from its first start-up in its own
 * globals; at our shutdown eglTerminate() dlclose()s the driver, LeakSanitizer
 * stops scanning those globals and reports the block (the driver's frames
 * show as <unknown module>, so no suppression file can name it). What the GL
 * stack allocates while virglrenderer starts belongs to the GL stack.
 */
#define GL_STARTUP_BEGIN() __lsan_disable()
#define GL_STARTUP_END() __lsan_enable()
#else
#define GL_STARTUP_BEGIN() ((void)0)
#define GL_STARTUP_END() ((void)0)
#endif

/* virglrenderer has process-wide state: one renderer per process. */
static struct rnd_virgl *the_renderer;

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
		return virgl_errno(virgl_renderer_context_create(ctx_id, name_len, name));
	}
	return virgl_errno(virgl_renderer_context_create_with_flags(ctx_id, capset_id, name_len,
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
	return virgl_errno(virgl_renderer_submit_cmd(buf, (int)ctx_id, (int)(size / 4)));
}

static int virgl_create_fence(struct rnd_renderer *base, uint64_t seq)
{
	struct rnd_virgl *vr = virgl_from_base(base);
	int r;

	virgl_renderer_force_ctx_0();
	vr->last_fence = seq;
	r = virgl_errno(virgl_renderer_create_fence((int)(uint32_t)seq, 0));
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
	int r = virgl_errno(virgl_renderer_context_create_fence(ctx_id, 0, ring_idx, seq));

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
	virgl_free_all_resources(vr);
	/* fences of the old session will never be reported to anyone */
	vr->retired_fence = vr->last_fence;
}

static void virgl_destroy(struct rnd_renderer *base)
{
	struct rnd_virgl *vr = virgl_from_base(base);

	virgl_renderer_force_ctx_0();
	virgl_free_all_resources(vr);
	event_source_remove(vr->poll_src);
	event_source_remove(vr->poll_timer);
	virgl_renderer_cleanup(vr);
	free(vr->render_node);
	rnd_scratch_finish(&vr->scratch);
	free(vr);
	the_renderer = NULL;
}
const struct rnd_ops rnd_virgl_ops = {
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
	if (cfg->render_node && virgl_check_render_node(cfg->render_node, err, err_len) < 0) {
		return NULL;
	}
	if (virgl_check_gl_libraries(cfg, err, err_len) < 0) {
		return NULL;
	}
	vr = calloc(1, sizeof(*vr));
	if (!vr) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	rnd_init(&vr->base, &rnd_virgl_ops);
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
	GL_STARTUP_BEGIN();
	r = virgl_renderer_init(vr, flags, &vr->cb);
	GL_STARTUP_END();
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

		vr->can_export = virgl_probe_export(why, sizeof(why));
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
		/* a poll fd means a fence thread */
		virgl_tune_sync_thread();
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
