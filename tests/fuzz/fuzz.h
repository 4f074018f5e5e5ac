/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets and their replay driver: the entry point
 * libFuzzer calls, a reader that takes typed values off the front of the
 * input (reading past the end gives zeros, so every input is valid), and the
 * checks every target runs after tearing its objects down.
 */
#ifndef VDG_FUZZ_H
#define VDG_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Called by libFuzzer, or by replay.c for each corpus file. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline void fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->left = size;
}

static inline bool fuzz_in_empty(const struct fuzz_in *in)
{
	return in->left == 0;
}

uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in); /* little-endian */
uint32_t fuzz_u32(struct fuzz_in *in);
uint64_t fuzz_u64(struct fuzz_in *in);
/* Takes up to len bytes; returns how many, with *ret pointing at them. */
size_t fuzz_bytes(struct fuzz_in *in, size_t len, const uint8_t **ret);

/*
 * Once per process: logs off (VDG_FUZZ_LOG=trace|debug|... turns them on to
 * debug a crash), SIGPIPE ignored (the daemon does the same in main.c).
 */
void fuzz_setup(void);

/*
 * One non-blocking sendmsg() (MSG_NOSIGNAL) of buf with at most 16 fds.
 * Returns bytes sent or -errno (-EAGAIN when the socket is full).
 */
ssize_t fuzz_send(int fd, const void *buf, size_t len, const int *fds, size_t nfds);

/* Open fds of the process (from /proc/self/fd). */
int fuzz_count_fds(void);
/* Aborts if the process holds more fds than `before`: a run must leak none. */
void fuzz_check_fds(int before, const char *target);

#endif /* VDG_FUZZ_H */
