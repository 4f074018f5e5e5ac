/* SPDX-License-Identifier: MIT */
/*
 * Shared between the files of the virglrenderer backend: rnd-virgl.c
 * (start-up, capsets, contexts, submission, fences), rnd-virgl-res.c
 * (resources, backing, transfers, read-back) and rnd-virgl-host.c (what the
 * host can do: GL libraries, render node, dma-buf export). Nothing else
 * includes it.
 */
#ifndef VDG_RND_VIRGL_PRIV_H
#define VDG_RND_VIRGL_PRIV_H

#define VIRGL_RENDERER_UNSTABLE_APIS 1

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <virglrenderer.h>

#include "event-loop.h"
#include "id-table.h"
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

extern const struct rnd_ops rnd_virgl_ops;

static inline struct rnd_virgl *virgl_from_base(struct rnd_renderer *r)
{
	return r->ops == &rnd_virgl_ops ? (struct rnd_virgl *)r : NULL;
}

/* virglrenderer returns -1, -errno or +errno: fold into -errno. */
static inline int virgl_errno(int virgl_ret)
{
	if (virgl_ret == 0) {
		return 0;
	}
	if (virgl_ret == ENOMEM || virgl_ret == -ENOMEM) {
		return -ENOMEM;
	}
	return -EINVAL;
}

/* rnd-virgl-res.c: the resource ops */
int virgl_resource_create_2d(struct rnd_renderer *base, const struct rnd_create_2d *a);
int virgl_resource_create_3d(struct rnd_renderer *base, const struct rnd_create_3d *a);
void virgl_resource_destroy(struct rnd_renderer *base, uint32_t id);
int virgl_attach_backing(struct rnd_renderer *base, uint32_t id, const struct rnd_backing *b);
void virgl_detach_backing(struct rnd_renderer *base, uint32_t id);
int virgl_transfer_to_host_2d(struct rnd_renderer *base, uint32_t id, const struct rnd_rect *rect,
	uint64_t offset, const struct rnd_backing *backing);
int virgl_transfer_3d(struct rnd_renderer *base, const struct rnd_transfer_3d *t);
int virgl_read_pixels(struct rnd_renderer *base, uint32_t id, const struct rnd_rect *rect,
	struct rnd_pixels *ret_pixels);
int virgl_cursor_image(struct rnd_renderer *base, uint32_t id, uint32_t *ret_argb,
	uint32_t width, uint32_t height);
/* Drops every resource (reset, destroy). */
void virgl_free_all_resources(struct rnd_virgl *vr);

/* rnd-virgl-host.c */
int virgl_export_dmabuf(struct rnd_renderer *base, uint32_t id, struct rnd_dmabuf *out);
/* Can this GL stack export a texture at all? why says what failed. */
bool virgl_probe_export(char *why, size_t why_len);
/* Checks --render-node; -1 and a message in err if unusable. */
int virgl_check_render_node(const char *path, char *err, size_t err_len);
/* Checks the GL libraries libepoxy will load; -1 and a message in err if missing. */
int virgl_check_gl_libraries(const struct rnd_virgl_config *cfg, char *err, size_t err_len);

/* Keeps virglrenderer's fence thread from preempting the loop thread. */
void virgl_tune_sync_thread(void);

#endif /* VDG_RND_VIRGL_PRIV_H */
