/* SPDX-License-Identifier: MIT */
/* Milliseconds of CLOCK_MONOTONIC, for tests that time a wait. */
#ifndef VDG_TEST_MONO_TIME_H
#define VDG_TEST_MONO_TIME_H

#include <time.h>

static inline long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* VDG_TEST_MONO_TIME_H */
