/* SPDX-License-Identifier: MIT */
/*
 * The daemon: builds the objects from the validated options and runs the
 * one event loop. Never daemonizes; SIGINT/SIGTERM end it cleanly (the
 * socket file is removed). A frontend that goes away is forgotten and the
 * next one accepted on the same socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "event-loop.h"
#include "gpu-device.h"
#include "log.h"
#include "options.h"
#include "renderer.h"
#include "vu-socket.h"

struct daemon {
	struct event_loop *loop;
	struct gpu_device *dev;
	struct vu_listener *listener;
	const struct vdg_options *opts;
};

static void on_signal(void *data, int signo)
{
	struct daemon *d = data;

	log_info("%s received, shutting down", strsignal(signo));
	event_loop_quit(d->loop, 0);
}

static void on_disconnect(void *data)
{
	struct daemon *d = data;

	if (!d->listener) {
		/* --fd: the one inherited connection is gone, and with it our purpose */
		event_loop_quit(d->loop, 0);
		return;
	}
	log_info("waiting for the next frontend on %s", d->opts->socket_path);
	vu_listener_resume(d->listener);
}

static void on_accept(void *data, int conn_fd)
{
	struct daemon *d = data;

	if (gpu_device_connected(d->dev)) {
		log_warn("a second frontend connected; only one at a time is served");
		close(conn_fd);
		return;
	}
	log_info("frontend connected");
	if (gpu_device_attach(d->dev, conn_fd) == 0) {
		vu_listener_pause(d->listener);
	}
}

static void print_banner(const struct vdg_options *opts)
{
	printf("vhost-device-gpu %s: listening on %s (gpu mode %s%s)\n", VDG_VERSION,
		opts->socket_path, vdg_gpu_mode_name(opts->gpu_mode),
		opts->headless ? ", headless" : "");
	printf("Connect QEMU (8.1 or newer without KVM) with:\n"
	       "  qemu-system-x86_64 -machine q35,memory-backend=mem0 -m 2G \\\n"
	       "    -object memory-backend-memfd,id=mem0,size=2G,share=on \\\n"
	       "    -chardev socket,id=vgpu,path=%s \\\n"
	       "    -device vhost-user-gpu-pci,chardev=vgpu -vga none ...\n",
		opts->socket_path);
	fflush(stdout);
}

struct rnd_renderer *vdg_create_renderer(struct event_loop *loop, const struct vdg_options *opts)
{
	switch (opts->gpu_mode) {
	case VDG_GPU_MODE_2D:
		return rnd_pixman_create();
	case VDG_GPU_MODE_VIRGLRENDERER: {
#if HAVE_VIRGL
		struct rnd_virgl_config cfg = {
			.use_egl = opts->use_egl,
			.use_glx = opts->use_glx,
			.use_gles = opts->use_gles,
			.use_surfaceless = opts->use_surfaceless,
			.render_node = opts->render_node,
			.capsets = opts->capsets,
			.require_dmabuf = opts->scanout_mode == VDG_SCANOUT_DMABUF,
			/* headless shows nothing: no reason to export */
			.try_dmabuf = opts->scanout_mode == VDG_SCANOUT_AUTO && !opts->headless,
		};
		char err[512];
		struct rnd_renderer *r = rnd_virgl_create(loop, &cfg, NULL, err, sizeof(err));

		if (!r) {
			log_error("gpu mode virglrenderer: %s", err);
		}
		return r;
#else
		log_error("gpu mode virglrenderer: this build has no virglrenderer support "
			  "(install libvirglrenderer-dev and rebuild)");
		return NULL;
#endif
	}
	case VDG_GPU_MODE_GFXSTREAM:
		log_error("gpu mode gfxstream: not available, gfxstream is not packaged in Debian 12 "
			  "and this build has no gfxstream support");
		return NULL;
	}
	return NULL;
}

int vdg_daemon_main(int argc, char **argv, vdg_renderer_factory create_renderer)
{
	struct vdg_options opts;
	struct daemon d = { .opts = &opts };
	struct gpu_device_config dev_config;
	struct rnd_renderer *renderer;
	struct event_source *sigint, *sigterm;
	char err[512];
	int ret = 1;

	switch (vdg_options_parse(argc, argv, getenv("RUST_LOG"), &opts, stdout, err,
		sizeof(err))) {
	case VDG_OPTIONS_EXIT:
		return 0;
	case VDG_OPTIONS_ERROR:
		fprintf(stderr, "vhost-device-gpu: error: %s\n", err);
		return 2;
	case VDG_OPTIONS_RUN:
		break;
	}
	log_set_level(opts.log_level);
	signal(SIGPIPE, SIG_IGN); /* peers that vanish give EPIPE, not death */
	/*
	 * SIGINT/SIGTERM wait, blocked, for the loop's signalfd: one that
	 * arrives during a slow start-up (GL) still ends the daemon cleanly.
	 * Blocked before any thread exists, so virglrenderer's and Mesa's
	 * threads inherit the mask and never take them.
	 */
	sigset_t stop_signals;

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);

	if (opts.fd >= 0) {
		struct stat st;

		if (fstat(opts.fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "vhost-device-gpu: error: invalid value '%d' for '--fd <FDNUM>': "
					"not an open socket\n",
				opts.fd);
			return 2;
		}
	}

	d.loop = event_loop_create();
	if (!d.loop) {
		log_error("cannot create the event loop: %s", strerror(errno));
		return 1;
	}
	/* a broken GL stack fails here, at start, not at the guest's first command */
	renderer = (create_renderer ? create_renderer : vdg_create_renderer)(d.loop, &opts);
	if (!renderer) {
		event_loop_destroy(d.loop);
		return 1;
	}
	dev_config = (struct gpu_device_config){
		.headless = opts.headless,
		.virgl = opts.gpu_mode != VDG_GPU_MODE_2D,
		.on_disconnect = on_disconnect,
		.disconnect_data = &d,
	};
	d.dev = gpu_device_create(d.loop, renderer, &dev_config);
	sigint = event_loop_add_signal(d.loop, SIGINT, on_signal, &d);
	sigterm = event_loop_add_signal(d.loop, SIGTERM, on_signal, &d);
	if (!d.dev || !sigint || !sigterm) {
		log_error("cannot create the device: %s", strerror(errno));
		goto out;
	}

	if (opts.fd >= 0) {
		if (gpu_device_attach(d.dev, opts.fd) < 0) {
			log_error("cannot use --fd %d: %s", opts.fd, strerror(errno));
			goto out;
		}
		log_info("serving the inherited connection on fd %d (gpu mode %s)", opts.fd,
			vdg_gpu_mode_name(opts.gpu_mode));
	} else {
		d.listener = vu_listener_create(d.loop, opts.socket_path, on_accept, &d);
		if (!d.listener) {
			log_error("cannot listen on %s: %s", opts.socket_path,
				errno == EADDRINUSE ? "another daemon is serving it" : strerror(errno));
			goto out;
		}
		print_banner(&opts);
	}
	ret = event_loop_run(d.loop) < 0 ? 1 : 0;

out:
	vu_listener_destroy(d.listener);
	gpu_device_destroy(d.dev);
	event_source_remove(sigint);
	event_source_remove(sigterm);
	event_loop_destroy(d.loop);
	return ret;
}
