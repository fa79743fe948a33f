/*
 * test-badinput.c - invalid arguments are answered with an error code,
 * never a crash, and leave the store unchanged; the size limits hold at
 * exactly their edges; every result code has a name.
 */
#include "testutil.h"

/* Assert that the store holds exactly one key, "k" = "v", with default
 * hints: what every test here stores before it misbehaves. */
static void assert_only_k_is_stored(warp_db *db)
{
    warp_placement at;
    uint8_t buf[4];
    size_t vlen;

    assert_counts(db, 1, 1, 1);
    assert_ok(warp_get(db, "k", 1, buf, sizeof(buf), &vlen, &at));
    assert_int_equal(vlen, 1);
    assert_int_equal(buf[0], 'v');
    assert_int_equal(at.access_pattern, WARP_ACCESS_BALANCED);
    assert_int_equal(at.priority, WARP_PRIORITY_NORMAL);
}

/* A store of the test's own (see own_store) with the given limits. */
static warp_db *open_with_limits(void **state, uint32_t max_key,
                                 uint64_t max_value)
{
    warp_options opts;

    warp_options_init(&opts);
    opts.max_key_size = max_key;
    opts.max_value_size = max_value;
    return own_store(state, &opts);
}

/* A warp_foreach callback that counts pairs in *(size_t *)ctx. */
static int count_pairs(void *ctx, const void *key, size_t klen, const void *val,
                       size_t vlen, const warp_placement *at)
{
    (void)key, (void)klen, (void)val, (void)vlen, (void)at;
    ++*(size_t *)ctx;
    return 0;
}

/* A warp_foreach_keys_from callback that counts keys in *(size_t *)ctx. */
static int count_keys(void *ctx, const void *key, size_t klen, size_t vlen,
                      const warp_placement *at)
{
    (void)key, (void)klen, (void)vlen, (void)at;
    ++*(size_t *)ctx;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* NULL arguments                                                            */
/* ------------------------------------------------------------------------ */

static void null_db_is_rejected_by_every_call(void **state)
{
    uint8_t buf[8];
    size_t vlen, failed;
    void *copy = (void *)&copy;
    warp_placement at;
    warp_stats st;
    warp_shard_stats ss;
    warp_recovery rec;
    warp_durability dur;
    warp_get_item gi = {.key = "k", .klen = 1, .buf = buf, .cap = 8};
    warp_put_item pi = {.key = "k", .klen = 1, .val = "v", .vlen = 1};

    (void)state;
    assert_rc(warp_put(NULL, "k", 1, "v", 1, NULL, NULL), WARP_EINVAL);
    assert_rc(warp_get(NULL, "k", 1, buf, sizeof(buf), &vlen, NULL),
              WARP_EINVAL);
    assert_rc(warp_get_alloc(NULL, "k", 1, &copy, &vlen, NULL), WARP_EINVAL);
    assert_null(copy);
    assert_rc(warp_delete(NULL, "k", 1), WARP_EINVAL);
    assert_rc(warp_exists(NULL, "k", 1), WARP_EINVAL);
    assert_rc(warp_get_batch(NULL, &gi, 1), WARP_EINVAL);
    assert_rc(warp_put_batch(NULL, &pi, 1, &failed), WARP_EINVAL);
    assert_rc(warp_stats_get(NULL, &st), WARP_EINVAL);
    assert_rc(warp_shard_stats_get(NULL, 0, &ss), WARP_EINVAL);
    assert_rc(warp_locate(NULL, "k", 1, &at), WARP_EINVAL);
    assert_rc(warp_foreach(NULL, count_pairs, &failed), WARP_EINVAL);
    assert_rc(warp_foreach_from(NULL, 0, count_pairs, &failed), WARP_EINVAL);
    assert_rc(warp_foreach_keys_from(NULL, 0, count_keys, &failed),
              WARP_EINVAL);
    assert_rc(warp_recovery_get(NULL, &rec), WARP_EINVAL);
    assert_rc(warp_durability_get(NULL, &dur), WARP_EINVAL);
    assert_int_equal(warp_shard_count(NULL), 0);
}

static void null_key_with_nonzero_length_is_rejected(void **state)
{
    warp_db *db = *state;
    uint8_t buf[8];
    size_t vlen;
    void *copy = (void *)&copy;
    warp_placement at;

    put_str(db, "k", "v");
    assert_rc(warp_put(db, NULL, 1, "x", 1, NULL, NULL), WARP_EINVAL);
    assert_rc(warp_get(db, NULL, 1, buf, sizeof(buf), &vlen, NULL),
              WARP_EINVAL);
    assert_rc(warp_get_alloc(db, NULL, 1, &copy, &vlen, NULL), WARP_EINVAL);
    assert_null(copy);
    assert_rc(warp_delete(db, NULL, 1), WARP_EINVAL);
    assert_rc(warp_exists(db, NULL, 1), WARP_EINVAL);
    assert_rc(warp_locate(db, NULL, 1, &at), WARP_EINVAL);
    assert_only_k_is_stored(db);
}

static void null_value_with_nonzero_length_is_rejected(void **state)
{
    warp_db *db = *state;

    put_str(db, "k", "v");
    assert_rc(warp_put(db, "new", 3, NULL, 5, NULL, NULL), WARP_EINVAL);
    assert_get_notfound(db, "new", 3);
    /* An existing key keeps its value. */
    assert_rc(warp_put(db, "k", 1, NULL, 5, NULL, NULL), WARP_EINVAL);
    assert_only_k_is_stored(db);
}

static void null_out_pointers_are_rejected(void **state)
{
    warp_db *db = *state;
    size_t vlen, pairs = 0;

    put_str(db, "k", "v");
    assert_rc(warp_open(NULL, NULL, NULL), WARP_EINVAL);
    assert_rc(warp_get_alloc(db, "k", 1, NULL, &vlen, NULL), WARP_EINVAL);
    assert_rc(warp_stats_get(db, NULL), WARP_EINVAL);
    assert_rc(warp_shard_stats_get(db, 0, NULL), WARP_EINVAL);
    assert_rc(warp_locate(db, "k", 1, NULL), WARP_EINVAL);
    assert_rc(warp_access_pattern_parse("hot", NULL), WARP_EINVAL);
    assert_rc(warp_priority_parse("high", NULL), WARP_EINVAL);
    assert_rc(warp_foreach(db, NULL, NULL), WARP_EINVAL);
    assert_rc(warp_foreach_from(db, 0, NULL, NULL), WARP_EINVAL);
    assert_rc(warp_foreach_from(db, WARP_SLOTS + 1, count_pairs, &pairs),
              WARP_EINVAL);
    assert_rc(warp_foreach_keys_from(db, 0, NULL, NULL), WARP_EINVAL);
    assert_rc(warp_foreach_keys_from(db, WARP_SLOTS + 1, count_keys, &pairs),
              WARP_EINVAL);
    assert_int_equal(pairs, 0);
    assert_rc(warp_recovery_get(db, NULL), WARP_EINVAL);
    assert_rc(warp_durability_get(db, NULL), WARP_EINVAL);
    assert_only_k_is_stored(db);
}

/* *vlen is where get reports the value's length, which the caller needs
 * to use the value (and to retry after WARP_ERANGE): it is not optional. */
/* vlen is optional: a caller that knows the length may pass NULL. */
static void null_length_pointer_is_allowed(void **state)
{
    warp_db *db = *state;
    uint8_t buf[8] = {0};
    void *copy = NULL;

    put_str(db, "k", "v");
    assert_rc(warp_get(db, "k", 1, buf, sizeof(buf), NULL, NULL), WARP_OK);
    assert_int_equal(buf[0], 'v');
    assert_rc(warp_get_alloc(db, "k", 1, &copy, NULL, NULL), WARP_OK);
    assert_non_null(copy);
    assert_memory_equal(copy, "v", 2);
    warp_free(copy);
    assert_only_k_is_stored(db);
}

static void null_buffer_with_nonzero_capacity_is_rejected(void **state)
{
    warp_db *db = *state;
    size_t vlen;

    put_str(db, "k", "v");
    assert_rc(warp_get(db, "k", 1, NULL, 8, &vlen, NULL), WARP_EINVAL);
}

static void null_name_to_parse_is_rejected(void **state)
{
    warp_access_pattern a = WARP_ACCESS_COLD;
    warp_priority p = WARP_PRIORITY_LOW;

    (void)state;
    assert_rc(warp_access_pattern_parse(NULL, &a), WARP_EINVAL);
    assert_int_equal(a, WARP_ACCESS_COLD);
    assert_rc(warp_priority_parse(NULL, &p), WARP_EINVAL);
    assert_int_equal(p, WARP_PRIORITY_LOW);
}

static void batch_calls_with_null_items_are_rejected(void **state)
{
    warp_db *db = *state;
    size_t failed;

    put_str(db, "k", "v");
    assert_rc(warp_get_batch(db, NULL, 1), WARP_EINVAL);
    assert_rc(warp_put_batch(db, NULL, 1, &failed), WARP_EINVAL);
    assert_only_k_is_stored(db);
}

static void put_batch_item_with_null_key_is_rejected(void **state)
{
    warp_db *db = *state;
    warp_put_item items[] = {
        {.key = "a", .klen = 1, .val = "1", .vlen = 1},
        {.key = NULL, .klen = 4, .val = "2", .vlen = 1},
    };
    size_t failed = 12345;

    put_str(db, "k", "v");
    assert_rc(warp_put_batch(db, items, 2, &failed), WARP_EINVAL);
    assert_int_equal(failed, 1);
    assert_get_notfound(db, "a", 1);
    assert_only_k_is_stored(db);
}

static void shard_stats_of_a_missing_shard_is_rejected(void **state)
{
    warp_db *db = *state;
    warp_shard_stats ss;

    assert_ok(warp_shard_stats_get(db, 15, &ss));
    assert_rc(warp_shard_stats_get(db, 16, &ss), WARP_EINVAL);
    assert_rc(warp_shard_stats_get(db, UINT32_MAX, &ss), WARP_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Size limits                                                               */
/* ------------------------------------------------------------------------ */

static void key_over_max_key_size_is_etoobig_and_not_stored(void **state)
{
    warp_db *db = *state;
    size_t max = 65536;
    uint8_t *key = make_value(max + 1, 1);

    put_str(db, "k", "v");
    assert_rc(warp_put(db, key, max + 1, "v", 1, NULL, NULL), WARP_ETOOBIG);
    assert_only_k_is_stored(db);
    assert_rc(warp_exists(db, key, max), WARP_NOTFOUND);
    free(key);
}

static void key_of_exactly_max_key_size_is_stored(void **state)
{
    warp_db *db = *state;
    size_t max = 65536;
    uint8_t *key = make_value(max, 2);

    assert_ok(warp_put(db, key, max, "v", 1, NULL, NULL));
    assert_get_equals(db, key, max, "v", 1);
    assert_counts(db, 1, max, 1);
    free(key);
}

static void small_max_key_size_is_enforced_at_its_edge(void **state)
{
    warp_db *db = open_with_limits(state, 8, 1000);

    put_str(db, "k", "v");
    assert_ok(warp_put(db, "12345678", 8, "v", 1, NULL, NULL));
    assert_rc(warp_put(db, "123456789", 9, "v", 1, NULL, NULL), WARP_ETOOBIG);
    assert_counts(db, 2, 9, 2);
}

/* A key longer than max_key_size cannot exist; the lookups say so with
 * WARP_ETOOBIG rather than WARP_NOTFOUND, and change nothing. */
static void lookups_of_an_oversized_key_return_etoobig(void **state)
{
    warp_db *db = open_with_limits(state, 8, 1000);
    uint8_t buf[8];
    size_t vlen;
    void *copy = (void *)&copy;
    warp_get_item item = {
        .key = "123456789", .klen = 9, .buf = buf, .cap = sizeof(buf)};

    put_str(db, "k", "v");
    assert_rc(warp_get(db, "123456789", 9, buf, sizeof(buf), &vlen, NULL),
              WARP_ETOOBIG);
    assert_rc(warp_get_alloc(db, "123456789", 9, &copy, &vlen, NULL),
              WARP_ETOOBIG);
    assert_null(copy);
    assert_rc(warp_exists(db, "123456789", 9), WARP_ETOOBIG);
    assert_rc(warp_delete(db, "123456789", 9), WARP_ETOOBIG);
    assert_ok(warp_get_batch(db, &item, 1));
    assert_rc(item.rc, WARP_ETOOBIG);
    assert_only_k_is_stored(db);
}

static void value_over_max_value_size_is_etoobig_and_not_stored(void **state)
{
    warp_db *db = open_with_limits(state, 65536, 1000);
    uint8_t *val = make_value(1001, 3);

    put_str(db, "k", "v");
    assert_rc(warp_put(db, "new", 3, val, 1001, NULL, NULL), WARP_ETOOBIG);
    assert_get_notfound(db, "new", 3);
    /* An existing key keeps its old value. */
    assert_rc(warp_put(db, "k", 1, val, 1001, NULL, NULL), WARP_ETOOBIG);
    assert_only_k_is_stored(db);
    free(val);
}

static void value_of_exactly_max_value_size_is_stored(void **state)
{
    warp_db *db = open_with_limits(state, 65536, 1000);
    uint8_t *val = make_value(1000, 4);

    assert_ok(warp_put(db, "k", 1, val, 1000, NULL, NULL));
    assert_get_equals(db, "k", 1, val, 1000);
    free(val);
}

static void zero_limits_accept_only_empty_keys_and_values(void **state)
{
    warp_db *db = open_with_limits(state, 0, 0);

    assert_ok(warp_put(db, "", 0, "", 0, NULL, NULL));
    assert_rc(warp_put(db, "k", 1, "", 0, NULL, NULL), WARP_ETOOBIG);
    assert_rc(warp_put(db, "", 0, "v", 1, NULL, NULL), WARP_ETOOBIG);
    assert_get_equals(db, "", 0, "", 0);
    assert_counts(db, 1, 0, 0);
}

/* ------------------------------------------------------------------------ */
/* Hints                                                                     */
/* ------------------------------------------------------------------------ */

static void invalid_hints_are_einval_and_not_stored(void **state)
{
    warp_db *db = *state;
    const warp_put_options bad[] = {
        {(warp_access_pattern)17, WARP_PRIORITY_NORMAL},
        {(warp_access_pattern)4, WARP_PRIORITY_NORMAL},
        {(warp_access_pattern)-1, WARP_PRIORITY_NORMAL},
        {WARP_ACCESS_BALANCED, (warp_priority)5},
        {WARP_ACCESS_HOT, (warp_priority)17},
        {WARP_ACCESS_COLD, (warp_priority)-1},
    };

    put_str(db, "k", "v");
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_rc(warp_put(db, "new", 3, "x", 1, &bad[i], NULL), WARP_EINVAL);
        assert_get_notfound(db, "new", 3);
        /* An existing key keeps its value and its hints. */
        assert_rc(warp_put(db, "k", 1, "x", 1, &bad[i], NULL), WARP_EINVAL);
        assert_only_k_is_stored(db);
    }
}

/* ------------------------------------------------------------------------ */
/* Result codes                                                              */
/* ------------------------------------------------------------------------ */

static const int all_codes[] = {
    WARP_OK,      WARP_NOTFOUND, WARP_EINVAL,   WARP_ENOMEM,
    WARP_ETOOBIG, WARP_ERANGE,   WARP_ENOOPT,   WARP_EIO,
    WARP_ENOSPC,  WARP_EBUSY,    WARP_ECORRUPT, WARP_EFULL,
};

static void strerror_names_every_code_distinctly(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(all_codes); i++) {
        const char *s = warp_strerror(all_codes[i]);

        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, "unknown error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, warp_strerror(all_codes[j]));
    }
}

static void strerror_of_unknown_codes_is_unknown_error(void **state)
{
    static const int unknown[] = {1,     2,      -12,       -13,
                                  12345, -12345, INT32_MAX, INT32_MIN};

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
        assert_string_equal(warp_strerror(unknown[i]), "unknown error");
}

static void close_and_free_accept_null(void **state)
{
    (void)state;
    warp_close(NULL);
    warp_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_db_is_rejected_by_every_call),
        STORE_TEST(null_key_with_nonzero_length_is_rejected),
        STORE_TEST(null_value_with_nonzero_length_is_rejected),
        STORE_TEST(null_out_pointers_are_rejected),
        STORE_TEST(null_length_pointer_is_allowed),
        STORE_TEST(null_buffer_with_nonzero_capacity_is_rejected),
        cmocka_unit_test(null_name_to_parse_is_rejected),
        STORE_TEST(batch_calls_with_null_items_are_rejected),
        STORE_TEST(put_batch_item_with_null_key_is_rejected),
        STORE_TEST(shard_stats_of_a_missing_shard_is_rejected),
        STORE_TEST(key_over_max_key_size_is_etoobig_and_not_stored),
        STORE_TEST(key_of_exactly_max_key_size_is_stored),
        OWN_STORE_TEST(small_max_key_size_is_enforced_at_its_edge),
        OWN_STORE_TEST(lookups_of_an_oversized_key_return_etoobig),
        OWN_STORE_TEST(value_over_max_value_size_is_etoobig_and_not_stored),
        OWN_STORE_TEST(value_of_exactly_max_value_size_is_stored),
        OWN_STORE_TEST(zero_limits_accept_only_empty_keys_and_values),
        STORE_TEST(invalid_hints_are_einval_and_not_stored),
        cmocka_unit_test(strerror_names_every_code_distinctly),
        cmocka_unit_test(strerror_of_unknown_codes_is_unknown_error),
        cmocka_unit_test(close_and_free_accept_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
