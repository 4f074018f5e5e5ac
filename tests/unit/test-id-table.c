/* SPDX-License-Identifier: MIT */
/*
* Unit tests for the id table (src/util/id-table.c): insert, lookup, the count limit,
 * growth, churn, iteration.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "id-table.h"

static void test_id_table_basic(void **state)
{
	struct id_table t;
	int a, b, c;

	id_table_init(&t, 100);
	assert_null(id_table_lookup(&t, 1));
	assert_null(id_table_remove(&t, 1));
	assert_int_equal(id_table_count(&t), 0);

	assert_int_equal(id_table_insert(&t, 1, &a), 0);
	assert_int_equal(id_table_insert(&t, 0, &b), 0);
	assert_int_equal(id_table_insert(&t, UINT32_MAX, &c), 0);
	assert_int_equal(id_table_insert(&t, 1, &c), -EEXIST);
	assert_int_equal(id_table_count(&t), 3);

	assert_ptr_equal(id_table_lookup(&t, 1), &a);
	assert_ptr_equal(id_table_lookup(&t, 0), &b);
	assert_ptr_equal(id_table_lookup(&t, UINT32_MAX), &c);
	assert_null(id_table_lookup(&t, 2));

	assert_ptr_equal(id_table_remove(&t, 1), &a);
	assert_null(id_table_lookup(&t, 1));
	assert_null(id_table_remove(&t, 1));
	assert_int_equal(id_table_count(&t), 2);
	/* the id can be used again once removed */
	assert_int_equal(id_table_insert(&t, 1, &c), 0);
	assert_ptr_equal(id_table_lookup(&t, 1), &c);

	id_table_finish(&t);
	assert_int_equal(id_table_count(&t), 0);
	assert_null(id_table_lookup(&t, 0));
	/* usable again after finish, with the same limit */
	assert_int_equal(id_table_insert(&t, 5, &a), 0);
	assert_ptr_equal(id_table_lookup(&t, 5), &a);
	id_table_finish(&t);
}

static void test_id_table_limit(void **state)
{
	static const size_t limits[] = { 0, 1, 16, 1000 };
	static int value;

	for (size_t l = 0; l < ARRAY_SIZE(limits); l++) {
		struct id_table t;

		id_table_init(&t, limits[l]);
		for (size_t i = 0; i < limits[l]; i++) {
			assert_int_equal(id_table_insert(&t, (uint32_t)(i * 7 + 3), &value), 0);
		}
		/* at the limit: one more is refused, but a duplicate still says -EEXIST */
		assert_int_equal(id_table_count(&t), limits[l]);
		assert_int_equal(id_table_insert(&t, 0xfffffff0u, &value), -ENOSPC);
		assert_null(id_table_lookup(&t, 0xfffffff0u));
		if (limits[l] > 0) {
			assert_int_equal(id_table_insert(&t, 3, &value), -EEXIST);
			/* removing one makes room for exactly one */
			assert_ptr_equal(id_table_remove(&t, 3), &value);
			assert_int_equal(id_table_insert(&t, 0xfffffff0u, &value), 0);
			assert_int_equal(id_table_insert(&t, 0xfffffff1u, &value), -ENOSPC);
		}
		id_table_finish(&t);
	}
}

static void test_id_table_many(void **state)
{
	enum { N = 5000 };
	struct id_table t;
	static char values[N];

	id_table_init(&t, N);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(id_table_insert(&t, i + 1, &values[i]), 0);
	}
	for (uint32_t i = 0; i < N; i++) {
		assert_ptr_equal(id_table_lookup(&t, i + 1), &values[i]);
	}
	assert_null(id_table_lookup(&t, N + 1));
	/* remove every odd id; the even ones must stay reachable past the tombstones */
	for (uint32_t i = 0; i < N; i += 2) {
		assert_ptr_equal(id_table_remove(&t, i + 1), &values[i]);
	}
	assert_int_equal(id_table_count(&t), N / 2);
	for (uint32_t i = 0; i < N; i++) {
		if (i % 2 == 0) {
			assert_null(id_table_lookup(&t, i + 1));
		} else {
			assert_ptr_equal(id_table_lookup(&t, i + 1), &values[i]);
		}
	}
	id_table_finish(&t);
}

static void test_id_table_churn(void **state)
{
	struct id_table t;
	int v;

	/*
	 * A guest creating and destroying one resource after another, each with a
	 * fresh id: tombstones must be reclaimed, not grow the table forever.
	 */
	id_table_init(&t, 4);
	for (uint32_t i = 0; i < 100000; i++) {
		assert_int_equal(id_table_insert(&t, i, &v), 0);
		assert_ptr_equal(id_table_lookup(&t, i), &v);
		assert_ptr_equal(id_table_remove(&t, i), &v);
	}
	assert_int_equal(id_table_count(&t), 0);
	assert_true(t.capacity <= 64);
	id_table_finish(&t);
}

static void test_id_table_iterate(void **state)
{
	static const uint32_t ids[] = { 0, 1, 2, 77, 1000000, UINT32_MAX };
	static int values[ARRAY_SIZE(ids)];
	bool seen[ARRAY_SIZE(ids)] = { false };
	struct id_table t;
	size_t iter = 0, n = 0;
	uint32_t id;
	void *value;

	id_table_init(&t, 64);
	assert_false(id_table_next(&t, &iter, &id, &value));
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		assert_int_equal(id_table_insert(&t, ids[i], &values[i]), 0);
	}
	assert_ptr_equal(id_table_remove(&t, 77), &values[3]);
	iter = 0;
	while (id_table_next(&t, &iter, &id, &value)) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(ids) && ids[k] != id; k++) {
		}
		assert_true(k < ARRAY_SIZE(ids));
		assert_int_not_equal(id, 77);
		assert_false(seen[k]);
		assert_ptr_equal(value, &values[k]);
		seen[k] = true;
		n++;
	}
	assert_int_equal(n, ARRAY_SIZE(ids) - 1);
	id_table_finish(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_table_basic),
		cmocka_unit_test(test_id_table_limit),
		cmocka_unit_test(test_id_table_many),
		cmocka_unit_test(test_id_table_churn),
		cmocka_unit_test(test_id_table_iterate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
