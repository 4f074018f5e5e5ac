/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/cli/options.c: every option in its short and long
 * forms, the defaults, the cross-checks and their one-line messages,
 * RUST_LOG, and the options that print and exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "config.h"
#include "options.h"

#define MASK_VIRGL (VDG_CAPSET_MASK(VDG_CAPSET_VIRGL) | VDG_CAPSET_MASK(VDG_CAPSET_VIRGL2))
#define MASK_GFXSTREAM                                                                             \
	(VDG_CAPSET_MASK(VDG_CAPSET_GFXSTREAM_VULKAN) | VDG_CAPSET_MASK(VDG_CAPSET_GFXSTREAM_GLES))

#define MAX_ARGS 16

struct parsed {
	enum vdg_options_result ret;
	struct vdg_options opts;
	char err[512];
	char *out;
	size_t out_len;
};

/* Parses a NULL-terminated argument list (argv[0] is added) with output captured. */
static void parse_list(struct parsed *p, const char *rust_log, const char *const *args)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	FILE *out;

	argv[argc++] = (char *)"vhost-device-gpu";
	for (; *args; args++) {
		assert_true(argc <= MAX_ARGS);
		argv[argc++] = (char *)*args;
	}
	argv[argc] = NULL;

	free(p->out);
	memset(p, 0, sizeof(*p));
	memset(p->err, 'X', sizeof(p->err) - 1);
	out = open_memstream(&p->out, &p->out_len);
	assert_non_null(out);
	p->ret = vdg_options_parse(argc, argv, rust_log, &p->opts, out, p->err, sizeof(p->err));
	assert_int_equal(fclose(out), 0);
}

#define PARSE(p, rust_log, ...) parse_list(p, rust_log, (const char *const[]){ __VA_ARGS__, NULL })

static void parsed_free(struct parsed *p)
{
	free(p->out);
	p->out = NULL;
}

static const char *args_str(const char *const *args)
{
	static char buf[512];
	size_t used = 0;

	buf[0] = '\0';
	for (; *args && used < sizeof(buf); args++) {
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s ", *args);
	}
	return buf;
}

static void assert_run(const struct parsed *p, const char *const *args)
{
	if (p->ret != VDG_OPTIONS_RUN) {
		fail_msg("'%s': returned %d, err '%s'", args_str(args), p->ret, p->err);
	}
	assert_string_equal(p->err, "");
	assert_int_equal(p->out_len, 0);
}

/* ---- defaults and accepted values --------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct parsed p = { 0 };
	const char *const none[] = { NULL };

	parse_list(&p, NULL, none);
	assert_run(&p, none);
	assert_string_equal(p.opts.socket_path, "/tmp/vhost-device-gpu.sock");
	assert_string_equal(p.opts.socket_path, VDG_DEFAULT_SOCKET_PATH);
	assert_int_equal(p.opts.fd, -1);
	assert_int_equal(p.opts.gpu_mode, VDG_GPU_MODE_2D);
	assert_int_equal(p.opts.capsets, 0);
	assert_true(p.opts.use_egl);
	assert_false(p.opts.use_glx);
	assert_true(p.opts.use_gles);
	assert_true(p.opts.use_surfaceless);
	assert_null(p.opts.render_node);
	assert_false(p.opts.headless);
	assert_int_equal(p.opts.log_level, LOG_LEVEL_INFO);

	/* an empty RUST_LOG is the same as none */
	parse_list(&p, "", none);
	assert_run(&p, none);
	assert_int_equal(p.opts.log_level, LOG_LEVEL_INFO);
	parsed_free(&p);
}

static void test_socket_path(void **state)
{
	static const char *const cases[][3] = {
		{ "-s", "/run/a.sock", NULL },
		{ "-s/run/a.sock", NULL, NULL },
		{ "--socket-path", "/run/a.sock", NULL },
		{ "--socket-path=/run/a.sock", NULL, NULL },
	};
	struct parsed p = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_list(&p, NULL, cases[i]);
		assert_run(&p, cases[i]);
		assert_string_equal(p.opts.socket_path, "/run/a.sock");
		assert_int_equal(p.opts.fd, -1);
	}
	parsed_free(&p);
}

static void test_gpu_mode(void **state)
{
	static const struct {
		const char *args[5];
		enum vdg_gpu_mode mode;
		uint32_t capsets;
	} cases[] = {
		{ { "-g", "2d" }, VDG_GPU_MODE_2D, 0 },
		{ { "-g2d" }, VDG_GPU_MODE_2D, 0 },
		{ { "--gpu-mode", "2d" }, VDG_GPU_MODE_2D, 0 },
		{ { "--gpu-mode=2d" }, VDG_GPU_MODE_2D, 0 },
		{ { "-g", "virglrenderer" }, VDG_GPU_MODE_VIRGLRENDERER, MASK_VIRGL },
		{ { "-gvirglrenderer" }, VDG_GPU_MODE_VIRGLRENDERER, MASK_VIRGL },
		{ { "--gpu-mode", "virglrenderer" }, VDG_GPU_MODE_VIRGLRENDERER, MASK_VIRGL },
		{ { "--gpu-mode=virglrenderer" }, VDG_GPU_MODE_VIRGLRENDERER, MASK_VIRGL },
		{ { "--gpu-mode", "virgl-renderer" }, VDG_GPU_MODE_VIRGLRENDERER, MASK_VIRGL },
		{ { "--gpu-mode=virgl-renderer" }, VDG_GPU_MODE_VIRGLRENDERER, MASK_VIRGL },
		{ { "-g", "gfxstream" }, VDG_GPU_MODE_GFXSTREAM, MASK_GFXSTREAM },
		{ { "--gpu-mode", "gfxstream" }, VDG_GPU_MODE_GFXSTREAM, MASK_GFXSTREAM },
		{ { "--gpu-mode=gfxstream" }, VDG_GPU_MODE_GFXSTREAM, MASK_GFXSTREAM },
		{ { "--virgl" }, VDG_GPU_MODE_VIRGLRENDERER, MASK_VIRGL },
		{ { "--virgl", "--gpu-mode", "virglrenderer" }, VDG_GPU_MODE_VIRGLRENDERER,
			MASK_VIRGL },
		{ { "--gpu-mode=virgl-renderer", "--virgl" }, VDG_GPU_MODE_VIRGLRENDERER,
			MASK_VIRGL },
		/* the last --gpu-mode wins */
		{ { "-g", "gfxstream", "-g", "2d" }, VDG_GPU_MODE_2D, 0 },
	};
	struct parsed p = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_list(&p, NULL, cases[i].args);
		assert_run(&p, cases[i].args);
		assert_int_equal(p.opts.gpu_mode, cases[i].mode);
		assert_int_equal(p.opts.capsets, cases[i].capsets);
	}
	parsed_free(&p);
}

static void test_capset(void **state)
{
	static const struct {
		const char *args[6];
		uint32_t capsets;
	} cases[] = {
		{ { "--virgl", "-c", "virgl" }, VDG_CAPSET_MASK(VDG_CAPSET_VIRGL) },
		{ { "--virgl", "-cvirgl2" }, VDG_CAPSET_MASK(VDG_CAPSET_VIRGL2) },
		{ { "--virgl", "--capset", "virgl2" }, VDG_CAPSET_MASK(VDG_CAPSET_VIRGL2) },
		{ { "--virgl", "--capset=virgl,virgl2" }, MASK_VIRGL },
		{ { "--virgl", "--capset", "virgl2,virgl" }, MASK_VIRGL },
		{ { "--virgl", "--capset=virgl,virgl" }, VDG_CAPSET_MASK(VDG_CAPSET_VIRGL) },
		{ { "-g", "gfxstream", "--capset", "gfxstream-vulkan" },
			VDG_CAPSET_MASK(VDG_CAPSET_GFXSTREAM_VULKAN) },
		{ { "-g", "gfxstream", "--capset=gfxstream-gles" },
			VDG_CAPSET_MASK(VDG_CAPSET_GFXSTREAM_GLES) },
		{ { "-g", "gfxstream", "-c", "gfxstream-vulkan,gfxstream-gles" }, MASK_GFXSTREAM },
		/* without gfxstream-gles, GLES may be off */
		{ { "-g", "gfxstream", "-c", "gfxstream-vulkan", "--use-gles=false" },
			VDG_CAPSET_MASK(VDG_CAPSET_GFXSTREAM_VULKAN) },
		/* --capset before --gpu-mode: checked against the final mode */
		{ { "--capset", "virgl", "--gpu-mode", "virglrenderer" },
			VDG_CAPSET_MASK(VDG_CAPSET_VIRGL) },
	};
	struct parsed p = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_list(&p, NULL, cases[i].args);
		assert_run(&p, cases[i].args);
		assert_int_equal(p.opts.capsets, cases[i].capsets);
	}
	parsed_free(&p);
}

static void test_bool_options(void **state)
{
	static const struct {
		const char *name;
		size_t offset;
	} flags[] = {
		{ "use-egl", offsetof(struct vdg_options, use_egl) },
		{ "use-glx", offsetof(struct vdg_options, use_glx) },
		{ "use-gles", offsetof(struct vdg_options, use_gles) },
		{ "use-surfaceless", offsetof(struct vdg_options, use_surfaceless) },
	};
	static const char *const values[] = { "true", "false" };
	struct parsed p = { 0 };

	for (size_t f = 0; f < ARRAY_SIZE(flags); f++) {
		for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
			char opt[64], opt_eq[64];
			const char *const sep[] = { opt, values[v], NULL };
			const char *const joined[] = { opt_eq, NULL };
			const char *const *forms[] = { sep, joined };

			snprintf(opt, sizeof(opt), "--%s", flags[f].name);
			snprintf(opt_eq, sizeof(opt_eq), "--%s=%s", flags[f].name, values[v]);
			for (size_t k = 0; k < ARRAY_SIZE(forms); k++) {
				bool got;

				parse_list(&p, NULL, forms[k]);
				assert_run(&p, forms[k]);
				memcpy(&got, (const char *)&p.opts + flags[f].offset, sizeof(got));
				assert_int_equal(got, v == 0);
				/* the other flags keep their defaults */
				assert_int_equal(p.opts.use_egl, f == 0 ? v == 0 : true);
				assert_int_equal(p.opts.use_glx, f == 1 ? v == 0 : false);
				assert_int_equal(p.opts.use_gles, f == 2 ? v == 0 : true);
				assert_int_equal(p.opts.use_surfaceless, f == 3 ? v == 0 : true);
			}
		}
	}
	parsed_free(&p);
}

static void test_render_node_headless(void **state)
{
	static const char *const cases[][3] = {
		{ "--render-node", "/dev/dri/renderD129", NULL },
		{ "--render-node=/dev/dri/renderD129", NULL, NULL },
		{ "--gpu-device", "/dev/dri/renderD129", NULL },
		{ "--gpu-device=/dev/dri/renderD129", NULL, NULL },
	};
	const char *const headless[] = { "--headless", NULL };
	struct parsed p = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_list(&p, NULL, cases[i]);
		assert_run(&p, cases[i]);
		assert_string_equal(p.opts.render_node, "/dev/dri/renderD129");
		assert_false(p.opts.headless);
	}
	parse_list(&p, NULL, headless);
	assert_run(&p, headless);
	assert_true(p.opts.headless);
	assert_null(p.opts.render_node);
	parsed_free(&p);
}

static void test_scanout_mode(void **state)
{
	static const struct {
		const char *args[4];
		enum vdg_scanout_mode mode;
	} cases[] = {
		{ { NULL }, VDG_SCANOUT_AUTO },
		{ { "--scanout-mode", "auto", NULL }, VDG_SCANOUT_AUTO },
		{ { "--scanout-mode=readback", NULL }, VDG_SCANOUT_READBACK },
		{ { "-g", "virglrenderer", "--scanout-mode=dmabuf", NULL }, VDG_SCANOUT_DMABUF },
		{ { "--scanout-mode", "readback", NULL }, VDG_SCANOUT_READBACK },
	};
	struct parsed p = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_list(&p, NULL, cases[i].args);
		assert_run(&p, cases[i].args);
		assert_int_equal(p.opts.scanout_mode, cases[i].mode);
	}
	assert_string_equal(vdg_scanout_mode_name(VDG_SCANOUT_DMABUF), "dmabuf");
	parsed_free(&p);
}

static void test_fd(void **state)
{
	static const struct {
		const char *args[3];
		int fd;
	} cases[] = {
		{ { "--fd", "3" }, 3 },
		{ { "--fd=0" }, 0 },
		{ { "--fd", "2147483647" }, 2147483647 },
		{ { "--fd=17", "--headless" }, 17 },
	};
	struct parsed p = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_list(&p, NULL, cases[i].args);
		assert_run(&p, cases[i].args);
		assert_int_equal(p.opts.fd, cases[i].fd);
		/* an inherited socket replaces the default path */
		assert_null(p.opts.socket_path);
	}
	parsed_free(&p);
}

static void test_rust_log(void **state)
{
	static const struct {
		const char *rust_log;
		enum log_level level;
	} cases[] = {
		{ NULL, LOG_LEVEL_INFO },
		{ "", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
		{ "error", LOG_LEVEL_ERROR },
		{ "vhost_device_gpu=trace", LOG_LEVEL_TRACE },
		{ "warn,vhost_device_gpu=debug", LOG_LEVEL_DEBUG },
		{ "other_crate=trace", LOG_LEVEL_INFO },
		{ "off", LOG_LEVEL_OFF },
	};
	const char *const args[] = { "--headless", NULL };
	struct parsed p = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_list(&p, cases[i].rust_log, args);
		assert_run(&p, args);
		assert_int_equal(p.opts.log_level, cases[i].level);
	}
	parsed_free(&p);
}

/* ---- errors ------------------------------------------------------------------------------- */

struct error_case {
	const char *rust_log;
	const char *args[8];
	const char *expect[5]; /* substrings of err */
};

static const struct error_case error_cases[] = {
	/* --gpu-mode */
	{ NULL, { "--gpu-mode", "3d" },
		{ "'3d'", "'--gpu-mode <GPU_MODE>'", "virglrenderer, gfxstream, 2d" } },
	{ NULL, { "-g", "VIRGLRENDERER" }, { "'VIRGLRENDERER'", "--gpu-mode", "2d" } },
	{ NULL, { "--gpu-mode=" }, { "''", "--gpu-mode", "virglrenderer, gfxstream, 2d" } },
	{ NULL, { "--gpu-mode=virgl" }, { "'virgl'", "--gpu-mode" } },
	/* --capset items */
	{ NULL, { "--virgl", "--capset", "virgl,vulkan" },
		{ "'vulkan'", "'--capset <CAPSET>'",
			"virgl, virgl2, gfxstream-vulkan, gfxstream-gles" } },
	{ NULL, { "--virgl", "-c", "VIRGL" }, { "'VIRGL'", "--capset" } },
	{ NULL, { "--virgl", "--capset=" }, { "''", "--capset" } },
	{ NULL, { "--virgl", "--capset", "virgl," }, { "''", "--capset" } },
	{ NULL, { "--virgl", "--capset", "virgl, virgl2" }, { "' virgl2'", "--capset" } },
	/* capsets of another mode */
	{ NULL, { "--gpu-mode", "2d", "--capset", "virgl" },
		{ "--capset", "2d", "virgl", "none" } },
	{ NULL, { "--capset", "virgl2" }, { "--capset", "gpu mode 2d", "virgl2" } },
	{ NULL, { "--virgl", "--capset", "virgl,gfxstream-vulkan" },
		{ "--capset", "virglrenderer", "gfxstream-vulkan", "accepted: virgl, virgl2" } },
	{ NULL, { "-g", "gfxstream", "-c", "virgl2" },
		{ "--capset", "gfxstream", "virgl2", "gfxstream-vulkan, gfxstream-gles" } },
	/* gfxstream-gles needs GLES */
	{ NULL, { "-g", "gfxstream", "-c", "gfxstream-gles", "--use-gles", "false" },
		{ "--use-gles", "gfxstream-gles", "true" } },
	{ NULL, { "-g", "gfxstream", "--use-gles=false" }, { "--use-gles", "gfxstream-gles" } },
	/* booleans */
	{ NULL, { "--use-egl", "yes" },
		{ "'yes'", "'--use-egl <USE_EGL>'", "accepted values are true, false" } },
	{ NULL, { "--use-glx=1" }, { "'1'", "--use-glx", "true, false" } },
	{ NULL, { "--use-gles", "TRUE" }, { "'TRUE'", "--use-gles", "true, false" } },
	{ NULL, { "--use-surfaceless=" }, { "''", "--use-surfaceless", "true, false" } },
	{ NULL, { "--use-surfaceless", "False" }, { "'False'", "--use-surfaceless" } },
	/* --fd */
	{ NULL, { "--fd", "-1" }, { "'-1'", "'--fd <FDNUM>'", "0 or more" } },
	{ NULL, { "--fd", "abc" }, { "'abc'", "--fd" } },
	{ NULL, { "--fd=" }, { "''", "--fd" } },
	{ NULL, { "--fd", "3x" }, { "'3x'", "--fd" } },
	{ NULL, { "--fd", "2147483648" }, { "'2147483648'", "--fd" } },
	{ NULL, { "--fd", "99999999999999999999" }, { "'99999999999999999999'", "--fd" } },
	/* --fd and --socket-path exclude each other, in either order */
	{ NULL, { "--fd", "3", "--socket-path", "/x" }, { "'--socket-path'", "'--fd'" } },
	{ NULL, { "-s", "/x", "--fd=3" }, { "'--socket-path'", "'--fd'" } },
	/* --virgl against another --gpu-mode */
	{ NULL, { "--virgl", "--gpu-mode", "2d" }, { "'--virgl'", "'--gpu-mode 2d'" } },
	{ NULL, { "-g", "gfxstream", "--virgl" }, { "'--virgl'", "'--gpu-mode gfxstream'" } },
	/* unknown options */
	{ NULL, { "--bogus" }, { "unknown option '--bogus'", "--help" } },
	{ NULL, { "--bogus=1" }, { "unknown option '--bogus=1'" } },
	{ NULL, { "-x" }, { "unknown option '-x'" } },
	{ NULL, { "--headless=yes" }, { "'--headless=yes'" } },
	/* virglrenderer with neither EGL nor GLX */
	{ NULL, { "-g", "virglrenderer", "--use-egl", "false", "--use-glx", "false" },
		{ "'--use-egl <USE_EGL>'", "--use-glx false", "--use-egl true" } },
	{ NULL, { "--virgl", "--use-glx=false", "--use-egl=false" }, { "no way to make GL contexts" } },
	/* --scanout-mode */
	{ NULL, { "--scanout-mode", "copy" }, { "'copy'", "'--scanout-mode <MODE>'", "auto, dmabuf, readback" } },
	{ NULL, { "--scanout-mode=" }, { "''", "--scanout-mode" } },
	{ NULL, { "--scanout-mode", "dmabuf" }, { "'dmabuf'", "gpu mode 2d", "auto, readback" } },
	{ NULL, { "--scanout-mode" }, { "'--scanout-mode'", "requires a value" } },
	/* missing values */
	{ NULL, { "--socket-path" }, { "'--socket-path'", "requires a value" } },
	{ NULL, { "-s" }, { "'-s'", "requires a value" } },
	{ NULL, { "--gpu-mode" }, { "'--gpu-mode'", "requires a value" } },
	{ NULL, { "-g" }, { "'-g'", "requires a value" } },
	{ NULL, { "--capset" }, { "'--capset'", "requires a value" } },
	{ NULL, { "-c" }, { "'-c'", "requires a value" } },
	{ NULL, { "--use-egl" }, { "'--use-egl'", "requires a value" } },
	{ NULL, { "--use-glx" }, { "'--use-glx'", "requires a value" } },
	{ NULL, { "--use-gles" }, { "'--use-gles'", "requires a value" } },
	{ NULL, { "--use-surfaceless" }, { "'--use-surfaceless'", "requires a value" } },
	{ NULL, { "--fd" }, { "'--fd'", "requires a value" } },
	{ NULL, { "--render-node" }, { "'--render-node'", "requires a value" } },
	{ NULL, { "--gpu-device" }, { "'--gpu-device'", "requires a value" } },
	/* empty paths */
	{ NULL, { "--socket-path=" }, { "'--socket-path <SOCKET>'", "path" } },
	{ NULL, { "--render-node=" }, { "'--render-node <PATH>'", "path" } },
	{ NULL, { "--gpu-device", "" }, { "--render-node", "path" } },
	/* stray arguments, wherever they stand */
	{ NULL, { "foo" }, { "unexpected argument 'foo'" } },
	{ NULL, { "-s", "/x", "extra" }, { "unexpected argument 'extra'" } },
	{ NULL, { "extra", "--virgl" }, { "unexpected argument 'extra'" } },
	/* RUST_LOG */
	{ "vhost_device_gpu=loud", { "--headless" },
		{ "RUST_LOG", "'vhost_device_gpu=loud'",
			"error, warn, info, debug, trace, off" } },
	{ "loud-crate", { "--headless" }, { "RUST_LOG", "'loud-crate'" } },
};

static void test_errors(void **state)
{
	struct parsed p = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(error_cases); i++) {
		const struct error_case *c = &error_cases[i];

		parse_list(&p, c->rust_log, c->args);
		if (p.ret != VDG_OPTIONS_ERROR) {
			fail_msg("'%s': returned %d, expected an error", args_str(c->args), p.ret);
		}
		/* one line, nothing printed to out */
		assert_true(strlen(p.err) > 10);
		assert_null(strchr(p.err, '\n'));
		assert_int_equal(p.out_len, 0);
		for (size_t k = 0; k < ARRAY_SIZE(c->expect) && c->expect[k]; k++) {
			if (!strstr(p.err, c->expect[k])) {
				fail_msg("'%s': err '%s' lacks '%s'", args_str(c->args), p.err,
					c->expect[k]);
			}
		}
	}
	parsed_free(&p);
}

static void test_error_truncated(void **state)
{
	char *argv[] = { (char *)"vhost-device-gpu", (char *)"--gpu-mode",
		(char *)"a-very-long-and-wrong-mode", NULL };
	struct vdg_options opts;
	char err[16];

	/* a small err buffer is filled and terminated, never overrun */
	memset(err, 'X', sizeof(err));
	assert_int_equal(vdg_options_parse(3, argv, NULL, &opts, stdout, err, sizeof(err)),
		VDG_OPTIONS_ERROR);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "invalid value '", 15);
}

static void test_reparse(void **state)
{
	struct parsed p = { 0 };

	/* getopt state is reset between calls, even after an error mid-argv */
	PARSE(&p, NULL, "--gpu-mode", "bogus", "--virgl");
	assert_int_equal(p.ret, VDG_OPTIONS_ERROR);
	PARSE(&p, NULL, "--virgl", "-s", "/a");
	assert_int_equal(p.ret, VDG_OPTIONS_RUN);
	assert_int_equal(p.opts.gpu_mode, VDG_GPU_MODE_VIRGLRENDERER);
	assert_string_equal(p.opts.socket_path, "/a");
	/* and no state leaks from the previous call */
	PARSE(&p, NULL, "--headless");
	assert_int_equal(p.ret, VDG_OPTIONS_RUN);
	assert_int_equal(p.opts.gpu_mode, VDG_GPU_MODE_2D);
	assert_string_equal(p.opts.socket_path, VDG_DEFAULT_SOCKET_PATH);
	assert_int_equal(p.opts.capsets, 0);
	parsed_free(&p);
}

/* ---- --help, --version, --print-capabilities ---------------------------------------------- */

static void test_help(void **state)
{
	static const char *const mentions[] = {
		"--socket-path",
		"-s,",
		"--fd",
		"--gpu-mode",
		"-g,",
		"--virgl ",
		"--capset",
		"-c,",
		"--use-egl",
		"--use-glx",
		"--use-gles",
		"--use-surfaceless",
		"--render-node",
		"--gpu-device",
		"--headless",
		"--print-capabilities",
		"--help",
		"-h,",
		"--version",
		"-V,",
		"virglrenderer",
		"virgl-renderer",
		"gfxstream",
		"2d",
		"virgl2",
		"gfxstream-vulkan",
		"gfxstream-gles",
		"RUST_LOG",
		VDG_DEFAULT_SOCKET_PATH,
	};
	static const char *const forms[][4] = {
		{ "--help", NULL },
		{ "-h", NULL },
		/* stops at --help: a later bad value is not reached */
		{ "--virgl", "--help", "--gpu-mode=bogus", NULL },
	};
	struct parsed p = { 0 };

	for (size_t f = 0; f < ARRAY_SIZE(forms); f++) {
		parse_list(&p, NULL, forms[f]);
		assert_int_equal(p.ret, VDG_OPTIONS_EXIT);
		assert_string_equal(p.err, "");
		assert_non_null(p.out);
		assert_true(strncmp(p.out, "vhost-device-gpu " VDG_VERSION " ",
				    strlen("vhost-device-gpu " VDG_VERSION " ")) == 0);
		for (size_t i = 0; i < ARRAY_SIZE(mentions); i++) {
			if (!strstr(p.out, mentions[i])) {
				fail_msg("--help does not mention '%s'", mentions[i]);
			}
		}
	}
	parsed_free(&p);
}

static void test_version(void **state)
{
	static const char *const forms[][3] = {
		{ "--version", NULL },
		{ "-V", NULL },
		{ "--headless", "-V", NULL },
	};
	struct parsed p = { 0 };

	for (size_t f = 0; f < ARRAY_SIZE(forms); f++) {
		parse_list(&p, NULL, forms[f]);
		assert_int_equal(p.ret, VDG_OPTIONS_EXIT);
		assert_string_equal(p.err, "");
		assert_string_equal(p.out, "vhost-device-gpu " VDG_VERSION "\n");
	}
	parsed_free(&p);
}

/*
 * A small strict JSON reader, enough to prove --print-capabilities prints
 * valid JSON and to pick out its top-level "type" and "features".
 */
struct json {
	const char *p;
	int depth;
	char type[32];
	bool in_features;
	unsigned int nfeatures;
	char features[8][32];
};

static bool json_value(struct json *j, char *str_out, size_t str_len);

static void json_ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r') {
		j->p++;
	}
}

static bool json_string(struct json *j, char *out, size_t out_len)
{
	size_t n = 0;

	if (*j->p != '"') {
		return false;
	}
	j->p++;
	while (*j->p != '"') {
		char c = *j->p;

		if (c == '\0' || (unsigned char)c < 0x20) {
			return false;
		}
		if (c == '\\') {
			j->p++;
			if (!strchr("\"\\/bfnrt", *j->p) || *j->p == '\0') {
				return false; /* \u escapes are not expected here */
			}
			c = *j->p;
		}
		if (out && n + 1 < out_len) {
			out[n++] = c;
		}
		j->p++;
	}
	j->p++;
	if (out) {
		out[n] = '\0';
	}
	return true;
}

static bool json_number(struct json *j)
{
	const char *start = j->p;

	if (*j->p == '-') {
		j->p++;
	}
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (*j->p >= '0' && *j->p <= '9') {
			j->p++;
		}
	} else {
		return false;
	}
	if (*j->p == '.') {
		j->p++;
		if (!(*j->p >= '0' && *j->p <= '9')) {
			return false;
		}
		while (*j->p >= '0' && *j->p <= '9') {
			j->p++;
		}
	}
	return j->p > start;
}

static bool json_object(struct json *j)
{
	j->p++;
	j->depth++;
	json_ws(j);
	if (*j->p == '}') {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		char key[32], value[32];
		bool top = j->depth == 1;

		json_ws(j);
		if (!json_string(j, key, sizeof(key))) {
			return false;
		}
		json_ws(j);
		if (*j->p++ != ':') {
			return false;
		}
		json_ws(j);
		value[0] = '\0';
		j->in_features = top && strcmp(key, "features") == 0;
		if (!json_value(j, value, sizeof(value))) {
			return false;
		}
		j->in_features = false;
		if (top && strcmp(key, "type") == 0) {
			snprintf(j->type, sizeof(j->type), "%s", value);
		}
		json_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p == '}') {
			j->p++;
			j->depth--;
			return true;
		}
		return false;
	}
}

static bool json_array(struct json *j)
{
	bool features = j->in_features;

	j->p++;
	j->depth++;
	json_ws(j);
	if (*j->p == ']') {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		char value[32];

		json_ws(j);
		value[0] = '\0';
		j->in_features = false;
		if (!json_value(j, value, sizeof(value))) {
			return false;
		}
		if (features && j->nfeatures < ARRAY_SIZE(j->features)) {
			snprintf(j->features[j->nfeatures++], sizeof(j->features[0]), "%s", value);
		}
		json_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p == ']') {
			j->p++;
			j->depth--;
			return true;
		}
		return false;
	}
}

static bool json_value(struct json *j, char *str_out, size_t str_len)
{
	switch (*j->p) {
	case '{':
		return json_object(j);
	case '[':
		return json_array(j);
	case '"':
		return json_string(j, str_out, str_len);
	case 't':
		j->p += 4;
		return strncmp(j->p - 4, "true", 4) == 0;
	case 'f':
		j->p += 5;
		return strncmp(j->p - 5, "false", 5) == 0;
	case 'n':
		j->p += 4;
		return strncmp(j->p - 4, "null", 4) == 0;
	default:
		return json_number(j);
	}
}

/* The whole text is one JSON object (and nothing else but whitespace). */
static bool json_parse(struct json *j, const char *text)
{
	memset(j, 0, sizeof(*j));
	j->p = text;
	json_ws(j);
	if (*j->p != '{' || !json_object(j)) {
		return false;
	}
	json_ws(j);
	return *j->p == '\0';
}

static void test_json_reader(void **state)
{
	struct json j;

	/* the reader itself must refuse broken JSON, or the next test proves nothing */
	assert_true(json_parse(&j, "{\"type\": \"gpu\", \"features\": [\"a\", \"b\"]}"));
	assert_string_equal(j.type, "gpu");
	assert_int_equal(j.nfeatures, 2);
	assert_false(json_parse(&j, "{\"type\": \"gpu\",}"));
	assert_false(json_parse(&j, "{\"type\": \"gpu\" \"x\": 1}"));
	assert_false(json_parse(&j, "{\"features\": [\"a\",]}"));
	assert_false(json_parse(&j, "{\"type\": gpu}"));
	assert_false(json_parse(&j, "{\"type\": \"gpu\"} x"));
	assert_false(json_parse(&j, "{\"type\": \"gpu\""));
	assert_false(json_parse(&j, ""));
}

static void check_capabilities(const struct parsed *p)
{
	struct json j;
	bool render_node = false, virgl = false;

	assert_int_equal(p->ret, VDG_OPTIONS_EXIT);
	assert_string_equal(p->err, "");
	assert_non_null(p->out);
	if (!json_parse(&j, p->out)) {
		fail_msg("not valid JSON: %s", p->out);
	}
	assert_string_equal(j.type, "gpu");
	for (unsigned int i = 0; i < j.nfeatures; i++) {
		render_node |= strcmp(j.features[i], "render-node") == 0;
		virgl |= strcmp(j.features[i], "virgl") == 0;
	}
	assert_true(render_node);
	/* 3D is not promised while the build cannot do it */
	assert_int_equal(virgl, VDG_HAVE_3D != 0);
}

static void test_print_capabilities(void **state)
{
	static const struct {
		const char *rust_log;
		const char *args[8];
	} cases[] = {
		{ NULL, { "--print-capabilities" } },
		/* every other option and argument is ignored, even invalid combinations */
		{ NULL, { "--socket-path", "/x", "--fd", "3", "--print-capabilities" } },
		{ NULL, { "--print-capabilities", "stray", "argument" } },
		{ NULL, { "--virgl", "--gpu-mode", "2d", "--print-capabilities" } },
		{ NULL, { "--print-capabilities", "--capset", "nonsense" } },
		{ NULL, { "-g", "2d", "--capset", "virgl", "--print-capabilities" } },
		{ NULL, { "-g", "gfxstream", "--use-gles", "false", "--print-capabilities" } },
		{ "vhost_device_gpu=loud", { "--print-capabilities" } },
		/* even values that would be refused, before or after it */
		{ NULL, { "--gpu-mode", "bogus", "--print-capabilities" } },
		{ NULL, { "--print-capabilities", "--bogus" } },
		{ NULL, { "--print-capabilities", "--use-egl", "maybe" } },
		{ NULL, { "--fd", "-5", "--print-capabilities", "--socket-path" } },
		{ NULL, { "--help", "--print-capabilities" } },
	};
	struct parsed p = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		parse_list(&p, cases[i].rust_log, cases[i].args);
		check_capabilities(&p);
	}
	parsed_free(&p);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void test_names(void **state)
{
	static const struct {
		uint32_t mask;
		const char *text;
	} cases[] = {
		{ 0, "" },
		{ VDG_CAPSET_MASK(VDG_CAPSET_VIRGL), "virgl" },
		{ MASK_VIRGL, "virgl, virgl2" },
		{ MASK_GFXSTREAM, "gfxstream-vulkan, gfxstream-gles" },
		{ VDG_CAPSET_MASK(VDG_CAPSET_VIRGL) | VDG_CAPSET_MASK(VDG_CAPSET_GFXSTREAM_GLES),
			"virgl, gfxstream-gles" },
		/* unknown bits are not named */
		{ VDG_CAPSET_MASK(5) | VDG_CAPSET_MASK(VDG_CAPSET_VIRGL2), "virgl2" },
	};
	char buf[128], small[8];

	assert_string_equal(vdg_gpu_mode_name(VDG_GPU_MODE_2D), "2d");
	assert_string_equal(vdg_gpu_mode_name(VDG_GPU_MODE_VIRGLRENDERER), "virglrenderer");
	assert_string_equal(vdg_gpu_mode_name(VDG_GPU_MODE_GFXSTREAM), "gfxstream");
	assert_string_equal(vdg_gpu_mode_name((enum vdg_gpu_mode)42), "?");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(buf, 'X', sizeof(buf));
		vdg_capsets_format(cases[i].mask, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
	/* a short buffer stays terminated and holds a prefix */
	memset(small, 'X', sizeof(small));
	vdg_capsets_format(MASK_GFXSTREAM, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	assert_memory_equal(small, "gfxstream-vulkan", strlen(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_socket_path),
		cmocka_unit_test(test_gpu_mode),
		cmocka_unit_test(test_capset),
		cmocka_unit_test(test_bool_options),
		cmocka_unit_test(test_render_node_headless),
		cmocka_unit_test(test_scanout_mode),
		cmocka_unit_test(test_fd),
		cmocka_unit_test(test_rust_log),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_truncated),
		cmocka_unit_test(test_reparse),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_json_reader),
		cmocka_unit_test(test_print_capabilities),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
