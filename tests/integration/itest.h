/* SPDX-License-Identifier: MIT */
/*
 * Integration-test helpers: the real daemon as a subprocess (private socket
 * directory, stderr captured to a file, SIGTERM at the end with its exit
 * status, socket removal and sanitizer output checked) and a started vdgfe
 * front-end per test, destroyed by the teardown even when a test fails.
 *
 * Each test file runs one daemon for its whole group (itest_group_setup/
 * itest_group_teardown); every test connects its own front-end through
 * itest_fe_start() and the daemon must survive every test (itest_teardown).
 */
#ifndef VDG_ITEST_H
#define VDG_ITEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>

#include "frontend.h"
#include "gpu-driver.h"

/* Waits on the daemon are longer under ASan; this bounds every one. */
#define ITEST_TIMEOUT_MS 10000

struct itest_daemon {
	pid_t pid;
	char dir[64];
	char sock[108];
	char errlog[128];
};

/* The daemon binary (argv[1]) and the group's daemon. */
extern const char *itest_bin;
extern struct itest_daemon itest_d;
/* The current test's front-end (destroyed by itest_teardown). */
extern struct vdgfe *itest_fe;

/* Starts bin with --socket-path in a fresh tmp dir and --gpu-mode 2d plus extra (NULL-ended). */
int itest_daemon_start(struct itest_daemon *d, const char *bin, const char *const *extra);
/* True while the process runs. */
bool itest_daemon_alive(struct itest_daemon *d);
/*
 * SIGTERM, waits (5 s, then SIGKILL); 0 if it exited with status 0, removed its
 * socket and wrote no sanitizer report; else -1 with the reason and stderr on stderr.
 */
int itest_daemon_stop(struct itest_daemon *d);
/* Does the daemon's stderr so far contain s? */
bool itest_daemon_log_contains(struct itest_daemon *d, const char *s);
/* The daemon's stderr so far (caller frees), or NULL. */
char *itest_daemon_log(const struct itest_daemon *d);
/* Lines of the daemon's stderr so far that contain s. */
unsigned int itest_daemon_log_count(const struct itest_daemon *d, const char *s);

/* cmocka group fixtures for one daemon per file, and the per-test teardown. */
int itest_group_setup(void **state);
/* The group's daemon with extra arguments (NULL-ended); a failure is remembered for itest_exit. */
int itest_group_setup_args(const char *const *extra);
int itest_group_teardown(void **state);
int itest_teardown(void **state);
/* main's exit status: cmocka's result, or 1 if a fixture failed (cmocka ignores those). */
int itest_exit(int cmocka_result);
/* Parses argv[1] (daemon path); exits 2 with usage if absent. */
void itest_init(int argc, char **argv);

/* Default config for the group daemon's socket. */
void itest_config(struct vdgfe_config *cfg);
/* vdgfe_create + negotiate + start with cfg (NULL: defaults); asserts; sets itest_fe. */
struct vdgfe *itest_fe_start(const struct vdgfe_config *cfg);
/* Destroys itest_fe (if any). */
void itest_fe_destroy(void);

/* Waits until the sink has seen at least n messages of type req. */
int itest_wait_sink(struct vdgfe *fe, uint32_t req, uint64_t n);
/* Reads whatever the display socket holds now (complete messages). */
void itest_drain_display(struct vdgfe *fe);

/*
 * RESOURCE_CREATE_2D + backing of w*h*4 bytes (one entry); asserts OK.
 * Returns the backing GPA.
 */
uint64_t itest_resource(struct vdgfe *fe, uint32_t id, uint32_t format, uint32_t w, uint32_t h);

/* A memfd of size bytes, mapped here (*ret_map): guest RAM to hand to the daemon. */
int itest_memfd(size_t size, uint8_t **ret_map);
/*
 * SET_MEM_TABLE with fe's region 0 (the rings) and, if fd >= 0, region 1 at
 * its usual GPA backed by fd (our mapping at hva). Returns vdgfe_send()'s result.
 */
int itest_set_mem_table(struct vdgfe *fe, int fd, uint8_t *hva);

/* Response type helpers around vdgfe_gpu_exec. */
int itest_exec(struct vdgfe *fe, unsigned int q, const void *req, size_t len);

/* Largest request an itest_batch() builder may write. */
#define ITEST_BATCH_REQ_MAX 4096
/* Writes control-queue request number i into buf (ITEST_BATCH_REQ_MAX bytes); returns its length.
 */
typedef size_t (*itest_req_fn)(struct vdgfe *fe, uint32_t i, void *buf, void *arg);
/*
 * Sends n control-queue requests built by fn, as many at a time as the ring
 * holds (one indirect chain each, one kick per batch), and asserts that
 * request i is answered want (the first mismatch fails the test with i).
 * This is how a limit of thousands of objects is reached in milliseconds.
 */
void itest_batch(struct vdgfe *fe, uint32_t n, itest_req_fn fn, void *arg, uint32_t want);

/* Pixel value the display must show for guest bytes b[0..3] of format fmt (x8r8g8b8, X=0). */
uint32_t itest_expected_xrgb(uint32_t fmt, const uint8_t b[4]);
/* a8r8g8b8 of the same bytes (alpha from the format, 0xff for X formats). */
uint32_t itest_expected_argb(uint32_t fmt, const uint8_t b[4]);

#define ITEST_ALL_FORMATS                                                                          \
	{                                                                                          \
		VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,                \
		        VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,        \
		        VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,        \
		        VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM         \
	}

#endif /* VDG_ITEST_H */
