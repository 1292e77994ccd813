/*
 * test_hashmap.c - the one hash table (src/engine/hashmap.h): values by
 * hash, duplicates, removal with backward shift, growth, against a plain
 * array as the reference.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

static size_t count_under(const struct hnp_hashmap *m, uint64_t hash, const void *value)
{
    size_t pos = HNP_HASHMAP_START, n = 0;
    void *v;
    while ((v = hnp_hashmap_next(m, hash, &pos)) != NULL)
        n += v == value;
    return n;
}

static void test_put_next_remove(void **state)
{
    (void)state;
    struct hnp_hashmap m = HNP_HASHMAP_INIT;
    int a, b, c;
    size_t pos = HNP_HASHMAP_START;
    assert_null(hnp_hashmap_next(&m, 7, &pos));
    assert_false(hnp_hashmap_remove(&m, 7, &a));
    assert_int_equal(hnp_hashmap_put(&m, 7, NULL), HNP_ERR_INVALID);
    assert_int_equal(hnp_hashmap_put(&m, 7, &a), HNP_OK);
    assert_int_equal(hnp_hashmap_put(&m, 7, &b), HNP_OK);
    assert_int_equal(hnp_hashmap_put(&m, 8, &c), HNP_OK);
    assert_int_equal(m.count, 3);
    assert_int_equal(count_under(&m, 7, &a), 1);
    assert_int_equal(count_under(&m, 7, &b), 1);
    assert_int_equal(count_under(&m, 7, &c), 0);
    assert_int_equal(count_under(&m, 8, &c), 1);
    assert_true(hnp_hashmap_remove(&m, 7, &a));
    assert_false(hnp_hashmap_remove(&m, 7, &a));
    assert_int_equal(count_under(&m, 7, &b), 1);
    assert_int_equal(m.count, 2);
    hnp_hashmap_clear(&m);
    assert_int_equal(m.count, 0);
    assert_null(m.slots);
}

static void test_index_values(void **state)
{
    (void)state;
    struct hnp_hashmap m = HNP_HASHMAP_INIT;
    assert_int_equal(hnp_hashmap_put(&m, 1, HNP_HASHMAP_FROM_INDEX(0)), HNP_OK);
    size_t pos = HNP_HASHMAP_START;
    void *v = hnp_hashmap_next(&m, 1, &pos);
    assert_non_null(v);
    assert_int_equal(HNP_HASHMAP_TO_INDEX(v), 0);
    hnp_hashmap_clear(&m);
}

/*
 * Random puts and removes with hashes from a small range (many collisions,
 * long probe runs that wrap around the end of the table), checked after
 * every step against the reference array.
 */
static void test_random_against_reference(void **state)
{
    (void)state;
    enum { N = 600, STEPS = 20000 };
    static int items[N];
    uint64_t hash_of[N];
    bool in[N];
    memset(in, 0, sizeof(in));
    struct hnp_hashmap m = HNP_HASHMAP_INIT;
    unsigned seed = 12345;
    size_t present = 0;
    for (int step = 0; step < STEPS; step++) {
        seed = seed * 1103515245u + 12345u;
        size_t i = (seed >> 8) % N;
        if (!in[i]) {
            /* hashes collide on purpose, and on the high bits (the same home slot) */
            hash_of[i] = ((uint64_t)((seed >> 20) % 97) << 40) | ((seed >> 4) % 13);
            assert_int_equal(hnp_hashmap_put(&m, hash_of[i], &items[i]), HNP_OK);
            in[i] = true;
            present++;
        } else {
            assert_true(hnp_hashmap_remove(&m, hash_of[i], &items[i]));
            in[i] = false;
            present--;
        }
        assert_int_equal(m.count, present);
        if (step % 97 == 0) {
            for (size_t k = 0; k < N; k++)
                assert_int_equal(in[k] ? count_under(&m, hash_of[k], &items[k]) : 0, in[k] ? 1 : 0);
        }
        assert_true(m.count * 4 <= m.cap * 3);
    }
    hnp_hashmap_clear(&m);
}

static void test_reserve_keeps_values(void **state)
{
    (void)state;
    struct hnp_hashmap m = HNP_HASHMAP_INIT;
    int v[100];
    for (int i = 0; i < 100; i++)
        assert_int_equal(hnp_hashmap_put(&m, hnp_hash_bytes(&i, sizeof(i)), &v[i]), HNP_OK);
    assert_int_equal(hnp_hashmap_reserve(&m, 10000), HNP_OK);
    assert_true(m.cap >= 10000 * 4 / 3);
    for (int i = 0; i < 100; i++)
        assert_int_equal(count_under(&m, hnp_hash_bytes(&i, sizeof(i)), &v[i]), 1);
    hnp_hashmap_clear(&m);
}

static void test_hashes(void **state)
{
    (void)state;
    assert_true(hnp_hash_str("abc") == hnp_hash_bytes("abc", 3));
    assert_true(hnp_hash_str("abc") != hnp_hash_str("abd"));
    int x, y;
    assert_true(hnp_hash_ptr(&x) != hnp_hash_ptr(&y));
    assert_true(hnp_hash_combine(1, 2) != hnp_hash_combine(2, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_next_remove),
        cmocka_unit_test(test_index_values),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_reserve_keeps_values),
        cmocka_unit_test(test_hashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
