/* SPDX-License-Identifier: MIT */
/* A stand-in 3D renderer for fuzzing the device's 3D paths without Mesa (fake-3d.c). */
#ifndef VDG_FUZZ_FAKE_3D_H
#define VDG_FUZZ_FAKE_3D_H

#include "event-loop.h"
#include "renderer.h"

/* 2D through pixman, 3D bookkept, fences retired from a timer on loop. */
struct rnd_renderer *fake3d_create(struct event_loop *loop);

#endif /* VDG_FUZZ_FAKE_3D_H */
