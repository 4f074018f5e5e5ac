/* SPDX-License-Identifier: MIT */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config.h"

static const struct {
	const char *name;
	enum vdg_gpu_mode mode;
} gpu_modes[] = {
	{ "virglrenderer", VDG_GPU_MODE_VIRGLRENDERER },
	{ "virgl-renderer", VDG_GPU_MODE_VIRGLRENDERER }, /* alias the reference accepts */
	{ "gfxstream", VDG_GPU_MODE_GFXSTREAM },
	{ "2d", VDG_GPU_MODE_2D },
};

static const struct {
	const char *name;
	unsigned int id;
	enum vdg_gpu_mode mode;
} capset_names[] = {
	{ "virgl", VDG_CAPSET_VIRGL, VDG_GPU_MODE_VIRGLRENDERER },
	{ "virgl2", VDG_CAPSET_VIRGL2, VDG_GPU_MODE_VIRGLRENDERER },
	{ "gfxstream-vulkan", VDG_CAPSET_GFXSTREAM_VULKAN, VDG_GPU_MODE_GFXSTREAM },
	{ "gfxstream-gles", VDG_CAPSET_GFXSTREAM_GLES, VDG_GPU_MODE_GFXSTREAM },
};

static const struct {
	const char *name;
	enum vdg_scanout_mode mode;
} scanout_mode_names[] = {
	{ "auto", VDG_SCANOUT_AUTO },
	{ "dmabuf", VDG_SCANOUT_DMABUF },
	{ "readback", VDG_SCANOUT_READBACK },
};

enum {
	OPT_USE_EGL = 0x100,
	OPT_USE_GLX,
	OPT_USE_GLES,
	OPT_USE_SURFACELESS,
	OPT_FD,
	OPT_PRINT_CAPABILITIES,
	OPT_RENDER_NODE,
	OPT_VIRGL,
	OPT_HEADLESS,
	OPT_SCANOUT_MODE,
};

static const struct option long_options[] = {
	{ "socket-path", required_argument, NULL, 's' },
	{ "gpu-mode", required_argument, NULL, 'g' },
	{ "capset", required_argument, NULL, 'c' },
	{ "use-egl", required_argument, NULL, OPT_USE_EGL },
	{ "use-glx", required_argument, NULL, OPT_USE_GLX },
	{ "use-gles", required_argument, NULL, OPT_USE_GLES },
	{ "use-surfaceless", required_argument, NULL, OPT_USE_SURFACELESS },
	{ "fd", required_argument, NULL, OPT_FD },
	{ "print-capabilities", no_argument, NULL, OPT_PRINT_CAPABILITIES },
	{ "render-node", required_argument, NULL, OPT_RENDER_NODE },
	{ "gpu-device", required_argument, NULL, OPT_RENDER_NODE },
	{ "virgl", no_argument, NULL, OPT_VIRGL },
	{ "headless", no_argument, NULL, OPT_HEADLESS },
	{ "scanout-mode", required_argument, NULL, OPT_SCANOUT_MODE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

static void print_help(FILE *out)
{
	fprintf(out,
		"vhost-device-gpu " VDG_VERSION " - vhost-user backend for a VirtIO GPU device\n"
		"\n"
		"Usage: vhost-device-gpu [--socket-path <SOCKET> | --fd <FDNUM>] [--gpu-mode <GPU_MODE>] "
		"[OPTIONS]\n"
		"\n"
		"Options:\n"
		"  -s, --socket-path <SOCKET>  vhost-user Unix domain socket to listen on\n"
		"                              [default: " VDG_DEFAULT_SOCKET_PATH "]\n"
		"      --fd <FDNUM>            use an inherited, already connected vhost-user socket\n"
		"                              (exclusive with --socket-path; the daemon exits when\n"
		"                              that connection ends)\n"
		"  -g, --gpu-mode <GPU_MODE>   which renderer to use [default: 2d]\n"
		"                              virglrenderer: OpenGL through virglrenderer (alias\n"
		"                                virgl-renderer)\n"
		"                              gfxstream: GLES/Vulkan through gfxstream (not available\n"
		"                                in this build: Debian 12 has no gfxstream package)\n"
		"                              2d: software 2D through pixman, for hosts without GL\n"
		"      --virgl                 same as --gpu-mode virglrenderer\n"
		"  -c, --capset <CAPSET>       comma-separated list of enabled capsets\n"
		"                              [default: every capset of the mode]\n"
		"                              virgl, virgl2 (virglrenderer mode)\n"
		"                              gfxstream-vulkan, gfxstream-gles (gfxstream mode)\n"
		"      --use-egl <true|false>  enable backend to use EGL [default: true]\n"
		"      --use-glx <true|false>  enable backend to use GLX [default: false]\n"
		"      --use-gles <true|false> enable backend to use GLES [default: true]\n"
		"      --use-surfaceless <true|false>\n"
		"                              enable surfaceless backend option [default: true]\n"
		"      --render-node <PATH>    DRM render node for 3D (alias --gpu-device)\n"
		"      --headless              no display socket needed; display output is dropped\n"
		"      --scanout-mode <MODE>   how 3D scanouts reach the frontend [default: auto]\n"
		"                              dmabuf: the texture itself, exported as a dma-buf\n"
		"                                (needs a render node here and a GL display in\n"
		"                                QEMU, e.g. -display egl-headless or gtk,gl=on)\n"
		"                              readback: pixels copied out (any QEMU display)\n"
		"                              auto: dmabuf if the GL stack can export, else readback\n"
		"      --print-capabilities    print the backend capabilities as JSON and exit\n"
		"  -h, --help                  print help and usage information\n"
		"  -V, --version               print version information\n"
		"\n"
		"Environment:\n"
		"  RUST_LOG   log level: error, warn, info (default), debug, trace or off;\n"
		"             filters such as vhost_device_gpu=debug are accepted\n"
		"\n"
		"Example:\n"
		"  vhost-device-gpu --socket-path /tmp/gpu.socket --gpu-mode virglrenderer\n"
		"  qemu-system-x86_64 -chardev socket,id=vgpu,path=/tmp/gpu.socket \\\n"
		"    -device vhost-user-gpu-pci,chardev=vgpu \\\n"
		"    -object memory-backend-memfd,share=on,id=mem0,size=4G \\\n"
		"    -machine q35,memory-backend=mem0 -vga none ...\n");
}

static void print_capabilities(FILE *out)
{
	fprintf(out, "{\n  \"type\": \"gpu\",\n  \"features\": [\n    \"render-node\"%s\n  ]\n}\n",
		VDG_HAVE_3D ? ",\n    \"virgl\"" : "");
}

static enum vdg_options_result fail(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum vdg_options_result fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return VDG_OPTIONS_ERROR;
}

static int parse_bool(const char *s, bool *ret)
{
	if (strcmp(s, "true") == 0) {
		*ret = true;
	} else if (strcmp(s, "false") == 0) {
		*ret = false;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int parse_gpu_mode(const char *s, enum vdg_gpu_mode *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(gpu_modes); i++) {
		if (strcmp(s, gpu_modes[i].name) == 0) {
			*ret = gpu_modes[i].mode;
			return 0;
		}
	}
	return -EINVAL;
}

const char *vdg_gpu_mode_name(enum vdg_gpu_mode mode)
{
	switch (mode) {
	case VDG_GPU_MODE_2D:
		return "2d";
	case VDG_GPU_MODE_VIRGLRENDERER:
		return "virglrenderer";
	case VDG_GPU_MODE_GFXSTREAM:
		return "gfxstream";
	}
	return "?";
}

const char *vdg_scanout_mode_name(enum vdg_scanout_mode mode)
{
	for (size_t i = 0; i < sizeof(scanout_mode_names) / sizeof(scanout_mode_names[0]); i++) {
		if (scanout_mode_names[i].mode == mode) {
			return scanout_mode_names[i].name;
		}
	}
	return "?";
}

void vdg_capsets_format(uint32_t capsets, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(capset_names); i++) {
		if (capsets & VDG_CAPSET_MASK(capset_names[i].id)) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
				capset_names[i].name);
			if (n < 0 || (size_t)n >= len - used) {
				return;
			}
			used += (size_t)n;
		}
	}
}

static uint32_t mode_capsets(enum vdg_gpu_mode mode)
{
	uint32_t mask = 0;

	for (size_t i = 0; i < ARRAY_SIZE(capset_names); i++) {
		if (capset_names[i].mode == mode) {
			mask |= VDG_CAPSET_MASK(capset_names[i].id);
		}
	}
	return mask;
}

/* Parses "virgl,virgl2" into a mask; on error names the bad item in err. */
static enum vdg_options_result parse_capsets(const char *list, uint32_t *ret, char *err,
	size_t err_len)
{
	uint32_t mask = 0;
	const char *p = list;

	for (;;) {
		size_t len = strcspn(p, ",");
		bool found = false;

		for (size_t i = 0; i < ARRAY_SIZE(capset_names); i++) {
			if (strlen(capset_names[i].name) == len &&
				strncmp(p, capset_names[i].name, len) == 0) {
				mask |= VDG_CAPSET_MASK(capset_names[i].id);
				found = true;
			}
		}
		if (!found) {
			return fail(err, err_len,
				"invalid value '%.*s' for '--capset <CAPSET>': accepted values are "
				"virgl, virgl2, gfxstream-vulkan, gfxstream-gles",
				(int)len, p);
		}
		if (p[len] == '\0') {
			break;
		}
		p += len + 1;
	}
	*ret = mask;
	return VDG_OPTIONS_RUN;
}

enum vdg_options_result vdg_options_parse(int argc, char **argv, const char *rust_log,
	struct vdg_options *opts, FILE *out, char *err, size_t err_len)
{
	bool socket_given = false, mode_given = false, virgl_flag = false, scanout_given = false;
	const char *capset_arg = NULL;
	enum vdg_gpu_mode mode_arg = VDG_GPU_MODE_2D;
	int c;

	*opts = (struct vdg_options){
		.socket_path = VDG_DEFAULT_SOCKET_PATH,
		.fd = -1,
		.gpu_mode = VDG_GPU_MODE_2D,
		.use_egl = true,
		.use_glx = false,
		.use_gles = true,
		.use_surfaceless = true,
		.log_level = LOG_LEVEL_DEFAULT,
	};
	err[0] = '\0';
	/*
	 * --print-capabilities ignores every other option, even bad ones (the
	 * convention): a first getopt pass looks only for it, so abbreviations
	 * and option arguments are understood exactly as in the real pass.
	 */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:g:c:hV", long_options, NULL)) != -1) {
		if (c == OPT_PRINT_CAPABILITIES) {
			print_capabilities(out);
			return VDG_OPTIONS_EXIT;
		}
	}
	optind = 0; /* full re-initialisation, so tests can parse many times */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:g:c:hV", long_options, NULL)) != -1) {
		bool *flag = NULL;
		const char *flag_name = NULL;

		switch (c) {
		case 's':
			if (optarg[0] == '\0') {
				return fail(err, err_len,
					"invalid value '' for '--socket-path <SOCKET>': a path is required");
			}
			opts->socket_path = optarg;
			socket_given = true;
			break;
		case 'g':
			if (parse_gpu_mode(optarg, &mode_arg) < 0) {
				return fail(err, err_len,
					"invalid value '%s' for '--gpu-mode <GPU_MODE>': accepted values "
					"are virglrenderer, gfxstream, 2d",
					optarg);
			}
			mode_given = true;
			break;
		case 'c':
			capset_arg = optarg;
			break;
		case OPT_USE_EGL:
			flag = &opts->use_egl;
			flag_name = "--use-egl <USE_EGL>";
			break;
		case OPT_USE_GLX:
			flag = &opts->use_glx;
			flag_name = "--use-glx <USE_GLX>";
			break;
		case OPT_USE_GLES:
			flag = &opts->use_gles;
			flag_name = "--use-gles <USE_GLES>";
			break;
		case OPT_USE_SURFACELESS:
			flag = &opts->use_surfaceless;
			flag_name = "--use-surfaceless <USE_SURFACELESS>";
			break;
		case OPT_FD: {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 || v > INT_MAX) {
				return fail(err, err_len,
					"invalid value '%s' for '--fd <FDNUM>': a file descriptor number "
					"(0 or more) is required",
					optarg);
			}
			opts->fd = (int)v;
			break;
		}
		case OPT_PRINT_CAPABILITIES: /* handled before parsing */
			break;
		case OPT_RENDER_NODE:
			if (optarg[0] == '\0') {
				return fail(err, err_len,
					"invalid value '' for '--render-node <PATH>': a path is required");
			}
			opts->render_node = optarg;
			break;
		case OPT_VIRGL:
			virgl_flag = true;
			break;
		case OPT_HEADLESS:
			opts->headless = true;
			break;
		case OPT_SCANOUT_MODE: {
			size_t i;

			for (i = 0; i < sizeof(scanout_mode_names) / sizeof(scanout_mode_names[0]); i++) {
				if (strcmp(optarg, scanout_mode_names[i].name) == 0) {
					break;
				}
			}
			if (i == sizeof(scanout_mode_names) / sizeof(scanout_mode_names[0])) {
				return fail(err, err_len,
					"invalid value '%s' for '--scanout-mode <MODE>': accepted values "
					"are auto, dmabuf, readback",
					optarg);
			}
			opts->scanout_mode = scanout_mode_names[i].mode;
			scanout_given = true;
			break;
		}
		case 'h':
			print_help(out);
			return VDG_OPTIONS_EXIT;
		case 'V':
			fprintf(out, "vhost-device-gpu " VDG_VERSION "\n");
			return VDG_OPTIONS_EXIT;
		case ':':
			if (strncmp(argv[optind - 1], "--", 2) != 0 && optopt && optopt < 0x100) {
				return fail(err, err_len, "option '-%c' requires a value (see --help)",
					optopt);
			}
			return fail(err, err_len, "option '%s' requires a value (see --help)",
				argv[optind - 1]);
		default:
			/* getopt has not moved past a bad short option bundled with others */
			if (strncmp(argv[optind - 1], "--", 2) != 0 && optopt && optopt < 0x100) {
				return fail(err, err_len,
					"unknown option '-%c' (see --help for the options)", optopt);
			}
			return fail(err, err_len, "unknown option '%s' (see --help for the options)",
				argv[optind - 1]);
		}
		if (flag && parse_bool(optarg, flag) < 0) {
			return fail(err, err_len,
				"invalid value '%s' for '%s': accepted values are true, false", optarg,
				flag_name);
		}
	}
	if (optind < argc) {
		return fail(err, err_len, "unexpected argument '%s' (see --help)", argv[optind]);
	}
	if (socket_given && opts->fd >= 0) {
		return fail(err, err_len,
			"'--socket-path' and '--fd' cannot be used together: give one of them");
	}
	if (opts->fd >= 0) {
		opts->socket_path = NULL;
	}
	if (virgl_flag && mode_given && mode_arg != VDG_GPU_MODE_VIRGLRENDERER) {
		return fail(err, err_len,
			"'--virgl' means '--gpu-mode virglrenderer' and cannot be used with "
			"'--gpu-mode %s'",
			vdg_gpu_mode_name(mode_arg));
	}
	opts->gpu_mode = virgl_flag ? VDG_GPU_MODE_VIRGLRENDERER : mode_arg;

	if (capset_arg) {
		uint32_t allowed = mode_capsets(opts->gpu_mode);

		if (parse_capsets(capset_arg, &opts->capsets, err, err_len) != VDG_OPTIONS_RUN) {
			return VDG_OPTIONS_ERROR;
		}
		if (opts->capsets & ~allowed) {
			char bad[128], ok[128];

			vdg_capsets_format(opts->capsets & ~allowed, bad, sizeof(bad));
			vdg_capsets_format(allowed, ok, sizeof(ok));
			return fail(err, err_len,
				"invalid value '%s' for '--capset <CAPSET>': gpu mode %s does not support "
				"%s (accepted: %s)",
				capset_arg, vdg_gpu_mode_name(opts->gpu_mode), bad,
				allowed ? ok : "none, the 2d mode has no capsets");
		}
	} else {
		opts->capsets = mode_capsets(opts->gpu_mode);
	}
	/* virglrenderer would call GL-context callbacks we do not have (it crashes) */
	if (opts->gpu_mode == VDG_GPU_MODE_VIRGLRENDERER && !opts->use_egl && !opts->use_glx) {
		return fail(err, err_len,
			"invalid value 'false' for '--use-egl <USE_EGL>': with '--use-glx false' too, "
			"virglrenderer has no way to make GL contexts (accepted: --use-egl true, or "
			"--use-glx true)");
	}
	if (scanout_given && opts->scanout_mode == VDG_SCANOUT_DMABUF &&
		opts->gpu_mode == VDG_GPU_MODE_2D) {
		return fail(err, err_len,
			"invalid value 'dmabuf' for '--scanout-mode <MODE>': gpu mode 2d has no GPU "
			"textures to export (accepted with 2d: auto, readback)");
	}
	if ((opts->capsets & VDG_CAPSET_MASK(VDG_CAPSET_GFXSTREAM_GLES)) && !opts->use_gles) {
		return fail(err, err_len,
			"invalid value 'false' for '--use-gles <USE_GLES>': the gfxstream-gles capset "
			"needs GLES (accepted: true, or drop gfxstream-gles from --capset)");
	}

	if (rust_log && rust_log[0] && log_parse_filter(rust_log, &opts->log_level) < 0) {
		return fail(err, err_len,
			"invalid value '%s' for RUST_LOG: accepted levels are error, warn, info, "
			"debug, trace, off (optionally as vhost_device_gpu=LEVEL)",
			rust_log);
	}
	return VDG_OPTIONS_RUN;
}
