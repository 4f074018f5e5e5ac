/* SPDX-License-Identifier: MIT */
/*
 * gl-pattern: the guest program of the gl-pattern e2e test (3D image).
 *
 * Draws a known image with GLES2 on EGL/GBM and scans it out through KMS,
 * then holds it until SIGTERM/SIGINT (or --hold seconds) so the host can take
 * a screendump. The image, in screen coordinates (x right, y down), for the
 * connector's preferred mode W x H:
 *
 *   quadrants (scissored clears): x < W/2, y < H/2 red; x >= W/2, y < H/2
 *     green; x < W/2, y >= H/2 blue; the rest white;
 *   1-pixel cyan lines (scissored clears): the last column x = W-1 and the
 *     last row y = H-1;
 *   a yellow 64x32 rectangle drawn with a shader, x in [16,80), y in [16,48);
 *   a 32x32 one-pixel checkerboard drawn with a shader from gl_FragCoord,
 *     x in [W/2+16, W/2+48), y in [H/2+16, H/2+48): black where x+y is even,
 *     magenta where it is odd.
 *
 * The quadrants reveal a vertical flip, a mirror and a transposition; the
 * lines and the checkerboard an off-by-one row or column. tests/e2e/run.py
 * (check_gl_pattern) computes the same image and compares every pixel.
 *
 * Two frames: frame 1 (grey decoy) goes up with drmModeSetCrtc, frame 2 (the
 * pattern) with drmModePageFlip, so the dump shows the flipped-to buffer.
 * Before each swap the frame is read back with glReadPixels and checked here,
 * which tells a rendering error from a scanout error.
 *
 * Output lines (stdout, line buffered) start with "GL-PATTERN: ". The last
 * one before holding is "GL-PATTERN: READY <W>x<H>". Exit status 0 after a
 * clean hold, 1 on any error.
 *
 * Built on the host by tests/e2e/setup.sh --3d:
 *   gcc -O2 -o gl-pattern gl-pattern.c $(pkg-config --cflags --libs gbm egl glesv2 libdrm)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES2/gl2.h>
#include <gbm.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#define TAG "GL-PATTERN: "

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf(TAG "ERROR: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	exit(1);
}

/* ---- the image ------------------------------------------------------------- */

struct rgb {
	uint8_t r, g, b;
};

static const struct rgb RED = {255, 0, 0}, GREEN = {0, 255, 0}, BLUE = {0, 0, 255},
			WHITE = {255, 255, 255}, CYAN = {0, 255, 255}, YELLOW = {255, 255, 0},
			BLACK = {0, 0, 0}, MAGENTA = {255, 0, 255}, GREY = {128, 128, 128};

#define RECT_X0 16
#define RECT_Y0 16
#define RECT_W 64
#define RECT_H 32
#define CHECK_OFF 16
#define CHECK_SIZE 32

/* The expected colour of screen pixel (x, y) of frame 2. */
static struct rgb expected(int x, int y, int w, int h)
{
	int cx = w / 2 + CHECK_OFF, cy = h / 2 + CHECK_OFF;

	if (x == w - 1 || y == h - 1) {
		return CYAN;
	}
	if (x >= RECT_X0 && x < RECT_X0 + RECT_W && y >= RECT_Y0 && y < RECT_Y0 + RECT_H) {
		return YELLOW;
	}
	if (x >= cx && x < cx + CHECK_SIZE && y >= cy && y < cy + CHECK_SIZE) {
		return (x + y) % 2 ? MAGENTA : BLACK;
	}
	if (y < h / 2) {
		return x < w / 2 ? RED : GREEN;
	}
	return x < w / 2 ? BLUE : WHITE;
}

/* ---- GL --------------------------------------------------------------------- */

static const char *VS =
	"attribute vec2 pos;\n"
	"uniform vec2 size;\n"
	"void main() {\n"
	"  gl_Position = vec4(pos.x * 2.0 / size.x - 1.0, 1.0 - pos.y * 2.0 / size.y, 0.0, 1.0);\n"
	"}\n";

/* checker == 0: solid colour; 1: black/magenta by the parity of the screen
 * coordinates (y down), computed from gl_FragCoord (y up). */
static const char *FS =
	"precision highp float;\n"
	"uniform vec4 color;\n"
	"uniform float checker;\n"
	"uniform float height;\n"
	"void main() {\n"
	"  if (checker > 0.5) {\n"
	"    float sx = floor(gl_FragCoord.x);\n"
	"    float sy = height - 1.0 - floor(gl_FragCoord.y);\n"
	"    gl_FragColor = mod(sx + sy, 2.0) > 0.5 ? vec4(1.0, 0.0, 1.0, 1.0)\n"
	"                                           : vec4(0.0, 0.0, 0.0, 1.0);\n"
	"  } else {\n"
	"    gl_FragColor = color;\n"
	"  }\n"
	"}\n";

struct gl {
	GLuint prog;
	GLint a_pos, u_size, u_color, u_checker, u_height;
};

static GLuint compile(GLenum type, const char *src)
{
	GLuint s = glCreateShader(type);
	GLint ok = 0;
	char log[1024];

	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		glGetShaderInfoLog(s, sizeof(log), NULL, log);
		die("shader compile: %s", log);
	}
	return s;
}

static void gl_init(struct gl *g)
{
	GLint ok = 0;
	char log[1024];

	g->prog = glCreateProgram();
	glAttachShader(g->prog, compile(GL_VERTEX_SHADER, VS));
	glAttachShader(g->prog, compile(GL_FRAGMENT_SHADER, FS));
	glBindAttribLocation(g->prog, 0, "pos");
	glLinkProgram(g->prog);
	glGetProgramiv(g->prog, GL_LINK_STATUS, &ok);
	if (!ok) {
		glGetProgramInfoLog(g->prog, sizeof(log), NULL, log);
		die("program link: %s", log);
	}
	g->a_pos = 0;
	g->u_size = glGetUniformLocation(g->prog, "size");
	g->u_color = glGetUniformLocation(g->prog, "color");
	g->u_checker = glGetUniformLocation(g->prog, "checker");
	g->u_height = glGetUniformLocation(g->prog, "height");
}

/* Scissored clear of the screen rectangle [x0,x1) x [y0,y1) (y down). */
static void clear_rect(int h, int x0, int y0, int x1, int y1, struct rgb c)
{
	glScissor(x0, h - y1, x1 - x0, y1 - y0);
	glClearColor(c.r / 255.0f, c.g / 255.0f, c.b / 255.0f, 1.0f);
	glClear(GL_COLOR_BUFFER_BIT);
}

/* Two triangles covering the screen rectangle [x0,x1) x [y0,y1). */
static void draw_rect(const struct gl *g, int x0, int y0, int x1, int y1, struct rgb c,
	bool checker)
{
	GLfloat v[12] = {
		(GLfloat)x0, (GLfloat)y0, (GLfloat)x1, (GLfloat)y0, (GLfloat)x0, (GLfloat)y1,
		(GLfloat)x1, (GLfloat)y0, (GLfloat)x1, (GLfloat)y1, (GLfloat)x0, (GLfloat)y1,
	};

	glUniform4f(g->u_color, c.r / 255.0f, c.g / 255.0f, c.b / 255.0f, 1.0f);
	glUniform1f(g->u_checker, checker ? 1.0f : 0.0f);
	glVertexAttribPointer((GLuint)g->a_pos, 2, GL_FLOAT, GL_FALSE, 0, v);
	glEnableVertexAttribArray((GLuint)g->a_pos);
	glDrawArrays(GL_TRIANGLES, 0, 6);
}

static void draw_frame(const struct gl *g, int w, int h, bool pattern)
{
	glViewport(0, 0, w, h);
	glDisable(GL_BLEND);
	glDisable(GL_DEPTH_TEST);
	if (!pattern) {
		glDisable(GL_SCISSOR_TEST);
		glClearColor(GREY.r / 255.0f, GREY.g / 255.0f, GREY.b / 255.0f, 1.0f);
		glClear(GL_COLOR_BUFFER_BIT);
		return;
	}
	glEnable(GL_SCISSOR_TEST);
	clear_rect(h, 0, 0, w / 2, h / 2, RED);
	clear_rect(h, w / 2, 0, w, h / 2, GREEN);
	clear_rect(h, 0, h / 2, w / 2, h, BLUE);
	clear_rect(h, w / 2, h / 2, w, h, WHITE);
	clear_rect(h, w - 1, 0, w, h, CYAN);
	clear_rect(h, 0, h - 1, w, h, CYAN);
	glDisable(GL_SCISSOR_TEST);

	glUseProgram(g->prog);
	glUniform2f(g->u_size, (GLfloat)w, (GLfloat)h);
	glUniform1f(g->u_height, (GLfloat)h);
	draw_rect(g, RECT_X0, RECT_Y0, RECT_X0 + RECT_W, RECT_Y0 + RECT_H, YELLOW, false);
	draw_rect(g, w / 2 + CHECK_OFF, h / 2 + CHECK_OFF, w / 2 + CHECK_OFF + CHECK_SIZE,
		h / 2 + CHECK_OFF + CHECK_SIZE, BLACK, true);
}

/* glReadPixels of the back buffer, compared with the expected frame. */
static bool check_readback(int w, int h, bool pattern)
{
	uint8_t *px = malloc((size_t)w * h * 4);
	bool ok = true;

	if (!px) {
		die("out of memory");
	}
	glPixelStorei(GL_PACK_ALIGNMENT, 4);
	glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px);
	if (glGetError() != GL_NO_ERROR) {
		die("glReadPixels failed");
	}
	for (int gy = 0; gy < h && ok; gy++) {
		for (int x = 0; x < w; x++) {
			int y = h - 1 - gy; /* GL rows go up, screen rows down */
			struct rgb e = pattern ? expected(x, y, w, h) : GREY;
			const uint8_t *p = px + ((size_t)gy * w + x) * 4;

			if (p[0] != e.r || p[1] != e.g || p[2] != e.b) {
				printf(TAG "readback frame %d: screen pixel (%d,%d) is (%d,%d,%d), "
				       "expected (%d,%d,%d)\n",
					pattern ? 2 : 1, x, y, p[0], p[1], p[2], e.r, e.g, e.b);
				ok = false;
				break;
			}
		}
	}
	if (ok) {
		printf(TAG "readback frame %d: all %dx%d pixels as expected\n", pattern ? 2 : 1, w,
			h);
	}
	free(px);
	return ok;
}

/* ---- KMS -------------------------------------------------------------------- */

struct kms {
	int fd;
	uint32_t conn_id, crtc_id;
	drmModeModeInfo mode;
};

static void kms_init(struct kms *k, const char *path)
{
	drmModeRes *res;
	drmModeConnector *conn = NULL;
	drmModeEncoder *enc = NULL;
	int i;

	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		die("open %s: %s", path, strerror(errno));
	}
	res = drmModeGetResources(k->fd);
	if (!res) {
		die("drmModeGetResources: %s", strerror(errno));
	}
	for (i = 0; i < res->count_connectors; i++) {
		conn = drmModeGetConnector(k->fd, res->connectors[i]);
		if (conn && conn->connection == DRM_MODE_CONNECTED && conn->count_modes > 0) {
			break;
		}
		drmModeFreeConnector(conn);
		conn = NULL;
	}
	if (!conn) {
		die("no connected connector with modes");
	}
	k->conn_id = conn->connector_id;
	k->mode = conn->modes[0];
	for (i = 0; i < conn->count_modes; i++) {
		if (conn->modes[i].type & DRM_MODE_TYPE_PREFERRED) {
			k->mode = conn->modes[i];
			break;
		}
	}
	if (conn->encoder_id) {
		enc = drmModeGetEncoder(k->fd, conn->encoder_id);
	}
	if (!enc && conn->count_encoders > 0) {
		enc = drmModeGetEncoder(k->fd, conn->encoders[0]);
	}
	if (!enc) {
		die("no encoder for connector %u", k->conn_id);
	}
	k->crtc_id = enc->crtc_id;
	if (!k->crtc_id) {
		for (i = 0; i < res->count_crtcs; i++) {
			if (enc->possible_crtcs & (1u << i)) {
				k->crtc_id = res->crtcs[i];
				break;
			}
		}
	}
	if (!k->crtc_id) {
		die("no CRTC for encoder %u", enc->encoder_id);
	}
	printf(TAG "connector %u, crtc %u, mode %s %ux%u (%d modes)\n", k->conn_id, k->crtc_id,
		k->mode.name, k->mode.hdisplay, k->mode.vdisplay, conn->count_modes);
	drmModeFreeEncoder(enc);
	drmModeFreeConnector(conn);
	drmModeFreeResources(res);
}

static uint32_t fb_for_bo(int fd, struct gbm_bo *bo)
{
	uint32_t fb = 0;
	int r = drmModeAddFB(fd, gbm_bo_get_width(bo), gbm_bo_get_height(bo), 24, 32,
		gbm_bo_get_stride(bo), gbm_bo_get_handle(bo).u32, &fb);

	if (r) {
		die("drmModeAddFB: %s", strerror(-r));
	}
	return fb;
}

static bool g_flipped;

static void on_flip(int fd, unsigned int seq, unsigned int sec, unsigned int usec, void *data)
{
	(void)fd;
	(void)seq;
	(void)sec;
	(void)usec;
	*(bool *)data = true;
}

static void wait_flip(int fd)
{
	bool *done = &g_flipped;
	drmEventContext ev = {.version = 2, .page_flip_handler = on_flip};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int waited = 0;

	while (!*done) {
		int r = poll(&p, 1, 100);

		if (r < 0 && errno != EINTR) {
			die("poll: %s", strerror(errno));
		}
		if (r > 0) {
			drmHandleEvent(fd, &ev);
		} else if ((waited += 100) >= 10000) {
			die("no page-flip event within 10 s");
		}
	}
}

/* ---- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const char *card = "/dev/dri/card0";
	int hold = 60;
	struct kms k;
	struct gbm_device *gbm;
	struct gbm_surface *gs;
	struct gbm_bo *bo1, *bo2;
	EGLDisplay dpy;
	EGLConfig cfgs[64], cfg = NULL;
	EGLint ncfg = 0, major, minor;
	EGLContext ctx;
	EGLSurface surf;
	struct gl g;
	uint32_t fb1, fb2;
	int w, h;
	bool ok;
	static const EGLint cfg_attr[] = {EGL_SURFACE_TYPE, EGL_WINDOW_BIT, EGL_RED_SIZE, 8,
		EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 0, EGL_RENDERABLE_TYPE,
		EGL_OPENGL_ES2_BIT, EGL_NONE};
	static const EGLint ctx_attr[] = {EGL_CONTEXT_CLIENT_VERSION, 2, EGL_NONE};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold") && i + 1 < argc) {
			hold = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--card") && i + 1 < argc) {
			card = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--card /dev/dri/cardN] [--hold SECONDS]\n",
				argv[0]);
			return 2;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	kms_init(&k, card);
	w = k.mode.hdisplay;
	h = k.mode.vdisplay;

	gbm = gbm_create_device(k.fd);
	if (!gbm) {
		die("gbm_create_device failed");
	}
	gs = gbm_surface_create(gbm, w, h, GBM_FORMAT_XRGB8888,
		GBM_BO_USE_SCANOUT | GBM_BO_USE_RENDERING);
	if (!gs) {
		die("gbm_surface_create %dx%d failed", w, h);
	}
	dpy = eglGetPlatformDisplay(EGL_PLATFORM_GBM_KHR, gbm, NULL);
	if (dpy == EGL_NO_DISPLAY || !eglInitialize(dpy, &major, &minor)) {
		die("EGL on GBM: no display (0x%x)", eglGetError());
	}
	if (!eglBindAPI(EGL_OPENGL_ES_API)) {
		die("eglBindAPI(GLES) failed");
	}
	if (!eglChooseConfig(dpy, cfg_attr, cfgs, 64, &ncfg) || ncfg == 0) {
		die("no EGL config");
	}
	for (int i = 0; i < ncfg; i++) {
		EGLint id = 0;

		if (eglGetConfigAttrib(dpy, cfgs[i], EGL_NATIVE_VISUAL_ID, &id) &&
			(uint32_t)id == GBM_FORMAT_XRGB8888) {
			cfg = cfgs[i];
			break;
		}
	}
	if (!cfg) {
		die("no EGL config for GBM_FORMAT_XRGB8888");
	}
	ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attr);
	if (ctx == EGL_NO_CONTEXT) {
		die("eglCreateContext: 0x%x", eglGetError());
	}
	surf = eglCreateWindowSurface(dpy, cfg, (EGLNativeWindowType)gs, NULL);
	if (surf == EGL_NO_SURFACE) {
		die("eglCreateWindowSurface: 0x%x", eglGetError());
	}
	if (!eglMakeCurrent(dpy, surf, surf, ctx)) {
		die("eglMakeCurrent: 0x%x", eglGetError());
	}
	printf(TAG "EGL %d.%d\n", major, minor);
	printf(TAG "GL_VENDOR: %s\n", (const char *)glGetString(GL_VENDOR));
	printf(TAG "GL_RENDERER: %s\n", (const char *)glGetString(GL_RENDERER));
	printf(TAG "GL_VERSION: %s\n", (const char *)glGetString(GL_VERSION));
	gl_init(&g);

	/* Frame 1: the grey decoy, set with SetCrtc. */
	draw_frame(&g, w, h, false);
	ok = check_readback(w, h, false);
	if (!eglSwapBuffers(dpy, surf)) {
		die("eglSwapBuffers: 0x%x", eglGetError());
	}
	bo1 = gbm_surface_lock_front_buffer(gs);
	if (!bo1) {
		die("gbm_surface_lock_front_buffer failed");
	}
	fb1 = fb_for_bo(k.fd, bo1);
	if (drmModeSetCrtc(k.fd, k.crtc_id, fb1, 0, 0, &k.conn_id, 1, &k.mode)) {
		die("drmModeSetCrtc: %s", strerror(errno));
	}
	printf(TAG "frame 1 (grey) set on crtc %u\n", k.crtc_id);

	/* Frame 2: the pattern, by page flip. */
	draw_frame(&g, w, h, true);
	ok = check_readback(w, h, true) && ok;
	if (!eglSwapBuffers(dpy, surf)) {
		die("eglSwapBuffers: 0x%x", eglGetError());
	}
	bo2 = gbm_surface_lock_front_buffer(gs);
	if (!bo2) {
		die("gbm_surface_lock_front_buffer failed");
	}
	fb2 = fb_for_bo(k.fd, bo2);
	if (drmModePageFlip(k.fd, k.crtc_id, fb2, DRM_MODE_PAGE_FLIP_EVENT, &g_flipped)) {
		die("drmModePageFlip: %s", strerror(errno));
	}
	wait_flip(k.fd);
	printf(TAG "frame 2 (pattern) flipped\n");
	drmModeRmFB(k.fd, fb1);
	gbm_surface_release_buffer(gs, bo1);
	if (!ok) {
		die("the guest's own readback differs from the pattern");
	}
	printf(TAG "READY %dx%d\n", w, h);

	for (int t = 0; t < hold * 10 && !g_stop; t++) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	printf(TAG "done (%s)\n", g_stop ? "signal" : "hold expired");
	drmModeRmFB(k.fd, fb2);
	gbm_surface_release_buffer(gs, bo2);
	eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglDestroySurface(dpy, surf);
	eglDestroyContext(dpy, ctx);
	eglTerminate(dpy);
	gbm_surface_destroy(gs);
	gbm_device_destroy(gbm);
	close(k.fd);
	return 0;
}
