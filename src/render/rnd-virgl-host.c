/* SPDX-License-Identifier: MIT */
/*
 * virglrenderer backend, what the host can do: the GL libraries libepoxy
 * will load (it abort()s on a missing one), the --render-node the user
 * named, exporting textures as dma-bufs (probed once at start-up, then per
 * scanout), and how virglrenderer's fence thread is scheduled.
 */
#include "rnd-virgl-priv.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_gpu.h>

#include "log.h"

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

int virgl_export_dmabuf(struct rnd_renderer *base, uint32_t id, struct rnd_dmabuf *out)
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

bool virgl_probe_export(char *why, size_t why_len)
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

/* Character devices of the DRM subsystem (linux/major.h DRM_MAJOR). */
#define DRM_CHAR_MAJOR 226

/*
 * The user named a node: it must be there and be DRM, or virglrenderer
 * would quietly fall back to another device (or to software).
 */
int virgl_check_render_node(const char *path, char *err, size_t err_len)
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
int virgl_check_gl_libraries(const struct rnd_virgl_config *cfg, char *err, size_t err_len)
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

/* ---- the fence thread ---- */

/* virglrenderer 0.10 names its fence thread so (u_thread_setname in thread_sync()). */
#define VIRGL_SYNC_THREAD_NAME "vrend-sync"
/* The thread names itself first thing; at start-up we wait this long for it. */
#define SYNC_THREAD_WAIT_MS 200

/* The id of this process's thread named `name`, or 0. */
static pid_t find_thread(const char *name)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *d;
	pid_t found = 0;

	if (!dir) {
		return 0;
	}
	while (!found && (d = readdir(dir))) {
		char path[sizeof("/proc/self/task//comm") + sizeof(d->d_name)], comm[32] = "";
		FILE *f;

		if (d->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", d->d_name);
		f = fopen(path, "re");
		if (!f) {
			continue;
		}
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			if (strcmp(comm, name) == 0) {
				found = (pid_t)atoi(d->d_name);
			}
		}
		fclose(f);
	}
	closedir(dir);
	return found;
}

/*
 * Every fence goes loop thread -> fence thread (a condition variable that
 * virglrenderer signals while it holds the fence mutex) -> loop thread (its
 * poll fd). As an ordinary thread, the woken fence thread preempts the loop
 * thread at once when both share a CPU, finds the mutex still held, and the
 * two ping-pong: about four context switches per fence instead of two, and
 * a context switch is the dearest thing in a fence round trip. A
 * SCHED_BATCH thread takes its full share of CPU but never preempts on
 * wake-up, so it runs when the loop thread goes back to sleep, a few
 * microseconds later. Measured in docs/architecture.md (Fences). No poll,
 * no spin: only the order in which two threads run changes.
 */
void virgl_tune_sync_thread(void)
{
	struct sched_param param = { .sched_priority = 0 };
	pid_t tid = 0;

	for (int waited = 0; waited <= SYNC_THREAD_WAIT_MS; waited++) {
		tid = find_thread(VIRGL_SYNC_THREAD_NAME);
		if (tid) {
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	if (!tid) {
		log_debug("virglrenderer's fence thread (%s) not found: scheduled as it is",
			VIRGL_SYNC_THREAD_NAME);
		return;
	}
	if (sched_setscheduler(tid, SCHED_BATCH, &param) < 0) {
		log_debug("fence thread %d: SCHED_BATCH refused: %s", (int)tid, strerror(errno));
		return;
	}
	log_debug("fence thread %d scheduled as SCHED_BATCH", (int)tid);
}
