/* SPDX-License-Identifier: MIT */
/* Scope-bound cleanup for locals, as systemd does it. */
#ifndef VDG_CLEANUP_H
#define VDG_CLEANUP_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Takes ownership out of a cleanup-managed variable. */
#define steal_ptr(p)                                                                               \
	({                                                                                         \
		__typeof__(p) tmp_ = (p);                                                          \
		(p) = NULL;                                                                        \
		tmp_;                                                                              \
	})
#define steal_fd(fd)                                                                               \
	({                                                                                         \
		int tmp_ = (fd);                                                                   \
		(fd) = -1;                                                                         \
		tmp_;                                                                              \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* VDG_CLEANUP_H */
