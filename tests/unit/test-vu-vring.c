/* SPDX-License-Identifier: MIT */
/* Split virtqueue, device side: chains, indirect tables, and every way a guest can break a ring. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "ring.h"
#include "vu-vring.h"

#define RAM_SIZE (1u << 20)
#define RING_GPA 0x1000u
#define DATA_GPA 0x10000u
#define NUM 16

struct fixture {
	struct test_guest_mem g;
	struct vu_mem mem;
	struct test_ring ring;
	struct vu_vring vq;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	log_set_level(LOG_LEVEL_OFF);
	assert_int_equal(test_guest_mem_create(&f->g, RAM_SIZE, 0), 0);
	vu_mem_init(&f->mem);
	assert_int_equal(test_guest_mem_add_to(&f->g, &f->mem), 0);
	test_ring_init(&f->ring, &f->g, NUM, RING_GPA);
	vu_vring_init(&f->vq, 0, &f->mem);
	f->vq.num = NUM;
	f->vq.addr = test_ring_addr(&f->ring, 0);
	f->vq.addr_set = true;
	assert_int_equal(vu_vring_map(&f->vq), 0);
	f->vq.started = true;
	f->vq.enabled = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vu_vring_reset(&f->vq);
	vu_mem_finish(&f->mem);
	test_guest_mem_destroy(&f->g);
	free(f);
	return 0;
}

static void test_empty_ring(void **state)
{
	struct fixture *f = *state;
	struct vu_elem *elem = NULL;

	assert_int_equal(vu_vring_pop(&f->vq, &elem), 0);
	assert_null(elem);
	assert_false(f->vq.broken);
}

static void test_chain_out_in_and_push(void **state)
{
	struct fixture *f = *state;
	struct vu_elem *elem;
	uint8_t out[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, got[8], reply[4] = { 9, 9, 9, 9 };

	memcpy(test_gpa(&f->g, DATA_GPA), out, 4);
	memcpy(test_gpa(&f->g, DATA_GPA + 0x100), out + 4, 4);
	test_ring_set_desc(&f->ring, 3, DATA_GPA, 4, VRING_DESC_F_NEXT, 7);
	test_ring_set_desc(&f->ring, 7, DATA_GPA + 0x100, 4, VRING_DESC_F_NEXT, 1);
	test_ring_set_desc(&f->ring, 1, DATA_GPA + 0x200, 64, VRING_DESC_F_WRITE, 0);
	test_ring_publish(&f->ring, 3);

	assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
	assert_int_equal(elem->head, 3);
	assert_int_equal(elem->out_num, 2);
	assert_int_equal(elem->in_num, 1);
	assert_int_equal(elem->out_len, 8);
	assert_int_equal(elem->in_len, 64);
	/* reads gather across the two readable buffers */
	assert_int_equal(vu_elem_read(&f->mem, elem, 0, got, 8), 0);
	assert_memory_equal(got, out, 8);
	assert_int_equal(vu_elem_read(&f->mem, elem, 2, got, 6), 0);
	assert_memory_equal(got, out + 2, 6);
	assert_int_not_equal(vu_elem_read(&f->mem, elem, 4, got, 8), 0);
	assert_int_equal(vu_elem_write(&f->mem, elem, 0, reply, 4), 0);
	assert_memory_equal(test_gpa(&f->g, DATA_GPA + 0x200), reply, 4);
	assert_int_not_equal(vu_elem_write(&f->mem, elem, 62, reply, 4), 0);

	vu_vring_push(&f->vq, elem, 4);
	assert_int_equal(f->ring.used->idx, 1);
	assert_int_equal(f->ring.used->ring[0].id, 3);
	assert_int_equal(f->ring.used->ring[0].len, 4);
	free(elem);
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 0);
}

/* Each case publishes one bad chain; the ring must end up broken, never crash. */
static void expect_broken(struct fixture *f, uint16_t head)
{
	struct vu_elem *elem = NULL;

	test_ring_publish(&f->ring, head);
	assert_int_equal(vu_vring_pop(&f->vq, &elem), -EIO);
	assert_null(elem);
	assert_true(f->vq.broken);
	/* a broken ring is left alone afterwards */
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 0);
}

static void test_loop(void **state)
{
	struct fixture *f = *state;

	test_ring_set_desc(&f->ring, 0, DATA_GPA, 4, VRING_DESC_F_NEXT, 1);
	test_ring_set_desc(&f->ring, 1, DATA_GPA, 4, VRING_DESC_F_NEXT, 0);
	expect_broken(f, 0);
}

static void test_self_loop(void **state)
{
	struct fixture *f = *state;

	test_ring_set_desc(&f->ring, 5, DATA_GPA, 4, VRING_DESC_F_NEXT, 5);
	expect_broken(f, 5);
}

static void test_next_out_of_range(void **state)
{
	struct fixture *f = *state;

	test_ring_set_desc(&f->ring, 0, DATA_GPA, 4, VRING_DESC_F_NEXT, NUM);
	expect_broken(f, 0);
}

static void test_head_out_of_range(void **state)
{
	expect_broken(*state, NUM);
}

static void test_avail_index_jump(void **state)
{
	struct fixture *f = *state;
	struct vu_elem *elem = NULL;

	f->ring.avail->idx = NUM + 1;
	assert_int_equal(vu_vring_pop(&f->vq, &elem), -EIO);
	assert_true(f->vq.broken);
}

static void test_desc_outside_memory(void **state)
{
	struct fixture *f = *state;

	test_ring_set_desc(&f->ring, 0, RAM_SIZE - 2, 4, 0, 0);
	expect_broken(f, 0);
}

static void test_desc_overflowing_address(void **state)
{
	struct fixture *f = *state;

	test_ring_set_desc(&f->ring, 0, UINT64_MAX - 1, 16, 0, 0);
	expect_broken(f, 0);
}

static void test_readable_after_writable(void **state)
{
	struct fixture *f = *state;

	test_ring_set_desc(&f->ring, 0, DATA_GPA, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	test_ring_set_desc(&f->ring, 1, DATA_GPA, 4, 0, 0);
	expect_broken(f, 0);
}

static void write_indirect(struct fixture *f, uint64_t table_gpa, unsigned int n)
{
	struct vring_desc *t = test_gpa(&f->g, table_gpa);

	for (unsigned int i = 0; i < n; i++) {
		t[i].addr = DATA_GPA + 0x40 * i;
		t[i].len = 16;
		t[i].flags = (uint16_t)((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
			(i == n - 1 ? VRING_DESC_F_WRITE : 0));
		t[i].next = (uint16_t)(i + 1);
	}
}

static void test_indirect_ok(void **state)
{
	struct fixture *f = *state;
	struct vu_elem *elem;

	f->vq.indirect = true;
	write_indirect(f, 0x8000, 4);
	test_ring_set_desc(&f->ring, 2, 0x8000, 4 * 16, VRING_DESC_F_INDIRECT, 0);
	test_ring_publish(&f->ring, 2);
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
	assert_int_equal(elem->head, 2);
	assert_int_equal(elem->out_num, 3);
	assert_int_equal(elem->in_num, 1);
	assert_int_equal(elem->bufs[1].gpa, DATA_GPA + 0x40);
	free(elem);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fixture *f = *state;

	write_indirect(f, 0x8000, 2);
	test_ring_set_desc(&f->ring, 0, 0x8000, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(f, 0);
}

static void test_indirect_bad_length(void **state)
{
	static const uint32_t lengths[] = { 0, 15, 17, (VU_ELEM_MAX_BUFS + 1) * 16 };

	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		struct fixture *f;

		setup((void **)&f);
		f->vq.indirect = true;
		test_ring_set_desc(&f->ring, 0, 0x8000, lengths[i], VRING_DESC_F_INDIRECT, 0);
		expect_broken(f, 0);
		teardown((void **)&f);
	}
}

static void test_indirect_with_next(void **state)
{
	struct fixture *f = *state;

	f->vq.indirect = true;
	write_indirect(f, 0x8000, 2);
	test_ring_set_desc(&f->ring, 0, 0x8000, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	expect_broken(f, 0);
}

static void test_indirect_nested(void **state)
{
	struct fixture *f = *state;
	struct vring_desc *t = test_gpa(&f->g, 0x8000);

	f->vq.indirect = true;
	t[0] = (struct vring_desc){ .addr = 0x9000, .len = 16, .flags = VRING_DESC_F_INDIRECT };
	test_ring_set_desc(&f->ring, 0, 0x8000, 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken(f, 0);
}

static void test_indirect_table_outside_memory(void **state)
{
	struct fixture *f = *state;

	f->vq.indirect = true;
	test_ring_set_desc(&f->ring, 0, RAM_SIZE - 16, 64, VRING_DESC_F_INDIRECT, 0);
	expect_broken(f, 0);
}

static void test_indirect_loop(void **state)
{
	struct fixture *f = *state;
	struct vring_desc *t = test_gpa(&f->g, 0x8000);

	f->vq.indirect = true;
	t[0] = (struct vring_desc){ DATA_GPA, 4, VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ DATA_GPA, 4, VRING_DESC_F_NEXT, 0 };
	test_ring_set_desc(&f->ring, 0, 0x8000, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(f, 0);
}

static void test_longest_chain(void **state)
{
	struct fixture *f = *state;
	struct vu_elem *elem;

	/* a chain through every descriptor is legal; one more would be a loop */
	for (uint16_t i = 0; i < NUM; i++) {
		test_ring_set_desc(&f->ring, i, DATA_GPA, 1,
			i + 1 < NUM ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	}
	test_ring_publish(&f->ring, 0);
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
	assert_int_equal(elem->out_num, NUM);
	free(elem);
}

static void test_stopped_ring_not_touched(void **state)
{
	struct fixture *f = *state;
	struct vu_elem *elem = NULL;

	test_ring_set_desc(&f->ring, 0, DATA_GPA, 4, 0, 0);
	test_ring_publish(&f->ring, 0);
	f->vq.started = false;
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 0);
	f->vq.started = true;
	f->vq.enabled = false;
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 0);
	f->vq.enabled = true;
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
	/* a push after the ring stopped must not write the used ring */
	f->vq.started = false;
	vu_vring_push(&f->vq, elem, 0);
	assert_int_equal(f->ring.used->idx, 0);
	free(elem);
}

static uint64_t eventfd_count(int fd)
{
	eventfd_t v = 0;

	if (eventfd_read(fd, &v) < 0) {
		return 0;
	}
	return v;
}

/*
 * A disabled (but started) ring gives no new buffers, yet a buffer taken
 * before the disable is answered in it, with a call: QEMU disables the rings
 * before it reads their bases, which count that buffer.
 */
static void test_disabled_ring_answers_taken(void **state)
{
	struct fixture *f = *state;
	struct vu_elem *elem = NULL, *next = NULL;

	f->vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(f->vq.call_fd >= 0);
	test_ring_set_desc(&f->ring, 0, DATA_GPA, 4, 0, 0);
	test_ring_publish(&f->ring, 0);
	test_ring_set_desc(&f->ring, 1, DATA_GPA + 64, 4, 0, 0);
	test_ring_publish(&f->ring, 1);
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
	f->vq.enabled = false;
	assert_false(vu_vring_usable(&f->vq));
	assert_int_equal(vu_vring_pop(&f->vq, &next), 0);
	vu_vring_push(&f->vq, elem, 4);
	vu_vring_notify(&f->vq);
	assert_int_equal(le16toh(f->ring.used->idx), 1);
	assert_int_equal(le32toh(f->ring.used->ring[0].id), 0);
	assert_int_equal(le32toh(f->ring.used->ring[0].len), 4);
	assert_int_equal(eventfd_count(f->vq.call_fd), 1);
	assert_int_equal(f->vq.last_avail_idx, 1);
	free(elem);
}

static void test_event_idx_suppression(void **state)
{
	struct fixture *f = *state;
	struct vu_elem *elem;
	uint16_t *used_event = &f->ring.avail->ring[NUM];
	uint16_t *avail_event = (uint16_t *)&f->ring.used->ring[NUM];

	f->vq.event_idx = true;
	assert_int_equal(vu_vring_map(&f->vq), 0);
	f->vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (uint16_t i = 0; i < 4; i++) {
		test_ring_set_desc(&f->ring, i, DATA_GPA, 4, 0, 0);
		test_ring_publish(&f->ring, i);
	}
	/* the guest wants an interrupt only after used index passes 2 */
	*used_event = 2;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
		vu_vring_push(&f->vq, elem, 0);
		free(elem);
		vu_vring_notify(&f->vq);
		/* first notify always fires (nothing signalled yet); then only when crossing 2 */
		uint64_t fired = eventfd_count(f->vq.call_fd);
		assert_int_equal(fired, (i == 0 || i == 2) ? 1 : 0);
	}
	assert_false(vu_vring_enable_notification(&f->vq));
	assert_int_equal(*avail_event, 4);
	test_ring_publish(&f->ring, 0);
	assert_true(vu_vring_enable_notification(&f->vq));
}

static void test_no_interrupt_flag(void **state)
{
	struct fixture *f = *state;
	struct vu_elem *elem;

	f->vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->ring.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	test_ring_set_desc(&f->ring, 0, DATA_GPA, 4, 0, 0);
	test_ring_publish(&f->ring, 0);
	test_ring_set_desc(&f->ring, 1, DATA_GPA, 4, 0, 0);
	test_ring_publish(&f->ring, 1);
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
	vu_vring_push(&f->vq, elem, 0);
	free(elem);
	vu_vring_notify(&f->vq);
	assert_int_equal(eventfd_count(f->vq.call_fd), 0);
	/* NOTIFY_ON_EMPTY overrides the flag once the ring is drained */
	f->vq.notify_on_empty = true;
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
	vu_vring_push(&f->vq, elem, 0);
	free(elem);
	vu_vring_notify(&f->vq);
	assert_int_equal(eventfd_count(f->vq.call_fd), 1);
}

static void test_map_checks(void **state)
{
	struct fixture *f = *state;

	/* rings must lie inside guest memory */
	f->vq.addr.used_user_addr = (uint64_t)(uintptr_t)(f->g.map + RAM_SIZE - 8);
	assert_int_equal(vu_vring_map(&f->vq), -EFAULT);
	assert_false(vu_vring_usable(&f->vq));
	assert_true(vu_vring_num_valid(1));
	assert_true(vu_vring_num_valid(1024));
	assert_false(vu_vring_num_valid(0));
	assert_false(vu_vring_num_valid(2048));
	assert_false(vu_vring_num_valid(100));
	struct vu_vring_addr a = { .desc_user_addr = 8 };
	assert_false(vu_vring_addr_valid(&a));
	a = (struct vu_vring_addr){ .avail_user_addr = 1 };
	assert_false(vu_vring_addr_valid(&a));
	a = (struct vu_vring_addr){ .used_user_addr = 2 };
	assert_false(vu_vring_addr_valid(&a));
	a = (struct vu_vring_addr){ .desc_user_addr = 16, .avail_user_addr = 2, .used_user_addr = 4 };
	assert_true(vu_vring_addr_valid(&a));
}

static void test_memory_change_remaps(void **state)
{
	struct fixture *f = *state;
	struct vu_mem fresh;
	struct vu_elem *elem;

	/* the same RAM, mapped again: the ring must follow the new mapping */
	vu_mem_init(&fresh);
	assert_int_equal(test_guest_mem_add_to(&f->g, &fresh), 0);
	vu_mem_replace(&f->mem, &fresh);
	test_ring_set_desc(&f->ring, 0, DATA_GPA, 4, 0, 0);
	test_ring_publish(&f->ring, 0);
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 1);
	free(elem);
	/* and when the memory goes away, the ring stops instead of faulting */
	vu_mem_finish(&f->mem);
	test_ring_publish(&f->ring, 0);
	assert_int_equal(vu_vring_pop(&f->vq, &elem), 0);
	assert_true(f->vq.broken);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_out_in_and_push, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_avail_index_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_desc_outside_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_desc_overflowing_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readable_after_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_not_negotiated, setup, teardown),
		cmocka_unit_test(test_indirect_bad_length),
		cmocka_unit_test_setup_teardown(test_indirect_with_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_table_outside_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longest_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_ring_not_touched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_ring_answers_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_suppression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_interrupt_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_change_remaps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
