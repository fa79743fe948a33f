/*
 * test-batch.c - warp_get_batch and warp_put_batch.
 *
 * A batch get must answer every item exactly as warp_get would; a batch put
 * applies its items in order, all or nothing.
 */
#include "testutil.h"

/* The value of key i in these tests: 1 + (i * 7) % 200 bytes seeded by i. */
static size_t batch_vlen(uint64_t i)
{
    return 1 + (i * 7) % 200;
}

/* Store key "b:<i>" with its value; return its placement. */
static warp_placement put_batch_key(warp_db *db, uint64_t i)
{
    char key[64];
    size_t klen = format_key(key, sizeof(key), "b", i);
    uint8_t *val = make_value(batch_vlen(i), i);
    warp_placement at;

    assert_ok(warp_put(db, key, klen, val, batch_vlen(i), NULL, &at));
    free(val);
    return at;
}

/* A batch of n get items for keys "b:<first>" .. "b:<first+n-1>", each
 * with a buffer of `cap` bytes and rc/vlen set to values no call returns.
 * Release with free_get_items(). */
static warp_get_item *make_get_items(uint64_t first, size_t n, size_t cap)
{
    warp_get_item *items = calloc(n, sizeof(*items));

    assert_non_null(items);
    for (size_t i = 0; i < n; i++) {
        char key[64];
        size_t klen = format_key(key, sizeof(key), "b", first + i);

        items[i].key = dup_bytes(key, klen);
        items[i].klen = klen;
        items[i].buf = malloc(cap > 0 ? cap : 1);
        items[i].cap = cap;
        items[i].rc = 12345;
        items[i].vlen = (size_t)-1;
        assert_non_null(items[i].key);
        assert_non_null(items[i].buf);
    }
    return items;
}

static void free_get_items(warp_get_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((void *)items[i].key);
        free(items[i].buf);
    }
    free(items);
}

/* Assert that a batch item for key "b:<i>" found that key's value. */
static void assert_item_holds_key_value(const warp_get_item *item, uint64_t i)
{
    uint8_t *val = make_value(batch_vlen(i), i);

    assert_rc(item->rc, WARP_OK);
    assert_int_equal(item->vlen, batch_vlen(i));
    assert_memory_equal(item->buf, val, batch_vlen(i));
    free(val);
}

/* ------------------------------------------------------------------------ */
/* warp_get_batch                                                            */
/* ------------------------------------------------------------------------ */

static void get_batch_reports_each_hit_and_miss(void **state)
{
    warp_db *db = *state;
    warp_placement at[10];
    warp_get_item *items;

    for (uint64_t i = 0; i < 10; i += 2)
        at[i] = put_batch_key(db, i);
    items = make_get_items(0, 10, 256);
    assert_ok(warp_get_batch(db, items, 10));
    for (uint64_t i = 0; i < 10; i++) {
        if (i % 2 == 1) {
            assert_rc(items[i].rc, WARP_NOTFOUND);
            continue;
        }
        assert_item_holds_key_value(&items[i], i);
        assert_same_location(items[i].where, at[i]);
        assert_int_equal(items[i].where.access_pattern, WARP_ACCESS_BALANCED);
        assert_int_equal(items[i].where.priority, WARP_PRIORITY_NORMAL);
        assert_int_equal(items[i].where.klass, WARP_CLASS_WARM);
    }
    free_get_items(items, 10);
}

static void get_batch_reports_stored_hints(void **state)
{
    warp_db *db = *state;
    warp_put_options cold = {WARP_ACCESS_COLD, WARP_PRIORITY_HIGH};
    uint8_t buf[8];
    warp_get_item item = {.key = "h", .klen = 1, .buf = buf, .cap = 8};

    assert_ok(warp_put(db, "h", 1, "v", 1, &cold, NULL));
    assert_ok(warp_get_batch(db, &item, 1));
    assert_rc(item.rc, WARP_OK);
    assert_int_equal(item.where.access_pattern, WARP_ACCESS_COLD);
    assert_int_equal(item.where.priority, WARP_PRIORITY_HIGH);
    assert_int_equal(item.where.klass, WARP_CLASS_COLD);
}

static void get_batch_small_buffer_fails_only_that_item(void **state)
{
    warp_db *db = *state;
    warp_get_item *items;
    uint8_t untouched[256];

    for (uint64_t i = 0; i < 3; i++)
        put_batch_key(db, i);
    items = make_get_items(0, 3, 256);
    items[1].cap = batch_vlen(1) - 1;
    memset(items[1].buf, 0x3C, 256);
    memset(untouched, 0x3C, sizeof(untouched));
    assert_ok(warp_get_batch(db, items, 3));
    assert_item_holds_key_value(&items[0], 0);
    assert_rc(items[1].rc, WARP_ERANGE);
    assert_int_equal(items[1].vlen, batch_vlen(1));
    assert_memory_equal(items[1].buf, untouched, sizeof(untouched));
    assert_item_holds_key_value(&items[2], 2);
    free_get_items(items, 3);
}

static void get_batch_null_buffer_reports_length(void **state)
{
    warp_db *db = *state;
    warp_get_item item = {.key = "b:0", .klen = 3, .buf = NULL, .cap = 0};

    put_batch_key(db, 0);
    assert_ok(warp_get_batch(db, &item, 1));
    assert_rc(item.rc, WARP_ERANGE);
    assert_int_equal(item.vlen, batch_vlen(0));
}

static void get_batch_with_zero_items_succeeds(void **state)
{
    warp_db *db = *state;
    warp_get_item item = {.key = "x", .klen = 1, .rc = 12345};

    assert_ok(warp_get_batch(db, NULL, 0));
    assert_ok(warp_get_batch(db, &item, 0));
    assert_int_equal(item.rc, 12345);
}

static void get_batch_item_with_null_key_alone_is_einval(void **state)
{
    warp_db *db = *state;
    warp_get_item *items;

    put_batch_key(db, 0);
    put_batch_key(db, 2);
    items = make_get_items(0, 3, 256);
    free((void *)items[1].key);
    items[1].key = NULL;
    assert_ok(warp_get_batch(db, items, 3));
    assert_item_holds_key_value(&items[0], 0);
    assert_rc(items[1].rc, WARP_EINVAL);
    assert_item_holds_key_value(&items[2], 2);
    free_get_items(items, 3);
}

static void get_batch_of_1000_items_matches_the_store(void **state)
{
    warp_db *db = *state;
    warp_placement at[1000];
    warp_get_item *items;

    /* Every third key is missing; the rest have varied lengths. */
    for (uint64_t i = 0; i < 1000; i++)
        if (i % 3 != 0)
            at[i] = put_batch_key(db, i);
    items = make_get_items(0, 1000, 256);
    assert_ok(warp_get_batch(db, items, 1000));
    for (uint64_t i = 0; i < 1000; i++) {
        if (i % 3 == 0) {
            assert_rc(items[i].rc, WARP_NOTFOUND);
        } else {
            assert_item_holds_key_value(&items[i], i);
            assert_same_location(items[i].where, at[i]);
        }
    }
    free_get_items(items, 1000);
}

static void get_batch_of_a_repeated_key_answers_every_item(void **state)
{
    warp_db *db = *state;
    uint8_t bufs[4][256];
    warp_get_item items[4];

    put_batch_key(db, 5);
    for (size_t i = 0; i < 4; i++) {
        items[i] = (warp_get_item){.key = "b:5",
                                   .klen = 3,
                                   .buf = bufs[i],
                                   .cap = sizeof(bufs[i]),
                                   .rc = 12345};
    }
    assert_ok(warp_get_batch(db, items, 4));
    for (size_t i = 0; i < 4; i++)
        assert_item_holds_key_value(&items[i], 5);
}

/* ------------------------------------------------------------------------ */
/* warp_put_batch                                                            */
/* ------------------------------------------------------------------------ */

/* n put items for keys "p:<i>" with value "value-of-<i>". Release with
 * free_put_items(). */
static warp_put_item *make_put_items(size_t n)
{
    warp_put_item *items = calloc(n, sizeof(*items));

    assert_non_null(items);
    for (size_t i = 0; i < n; i++) {
        char key[64], val[64];

        items[i].klen = format_key(key, sizeof(key), "p", i);
        items[i].vlen = format_key(val, sizeof(val), "value-of", i);
        items[i].key = dup_bytes(key, items[i].klen);
        items[i].val = dup_bytes(val, items[i].vlen);
        assert_non_null(items[i].key);
        assert_non_null(items[i].val);
    }
    return items;
}

static void free_put_items(warp_put_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((void *)items[i].key);
        free((void *)items[i].val);
    }
    free(items);
}

static void put_batch_stores_every_item(void **state)
{
    warp_db *db = *state;
    warp_put_item *items = make_put_items(500);
    uint64_t kbytes = 0, vbytes = 0;
    size_t failed = 12345;

    assert_ok(warp_put_batch(db, items, 500, &failed));
    for (size_t i = 0; i < 500; i++) {
        warp_placement at;

        assert_get_equals(db, items[i].key, items[i].klen, items[i].val,
                          items[i].vlen);
        assert_ok(warp_locate(db, items[i].key, items[i].klen, &at));
        assert_same_location(items[i].where, at);
        assert_int_equal(items[i].where.klass, WARP_CLASS_WARM);
        kbytes += items[i].klen;
        vbytes += items[i].vlen;
    }
    assert_counts(db, 500, kbytes, vbytes);
    assert_int_equal(stats_of(db).puts, 500);
    free_put_items(items, 500);
}

static void put_batch_overwrites_existing_keys(void **state)
{
    warp_db *db = *state;
    warp_put_item *items = make_put_items(3);

    put_str(db, "p:1", "old value of p:1");
    assert_ok(warp_put_batch(db, items, 3, NULL));
    assert_get_str(db, "p:0", "value-of:0");
    assert_get_str(db, "p:1", "value-of:1");
    assert_get_str(db, "p:2", "value-of:2");
    assert_counts(db, 3, 9, 30);
    free_put_items(items, 3);
}

static void put_batch_stores_each_items_hints(void **state)
{
    warp_db *db = *state;
    warp_put_item *items = make_put_items(3);
    warp_put_options hot = {WARP_ACCESS_HOT, WARP_PRIORITY_LOW};
    warp_put_options low = {WARP_ACCESS_BALANCED, WARP_PRIORITY_BACKGROUND};
    warp_placement at;
    uint8_t buf[64];
    size_t vlen;

    items[0].opts = &hot;
    items[1].opts = NULL;
    items[2].opts = &low;
    assert_ok(warp_put_batch(db, items, 3, NULL));
    assert_int_equal(items[0].where.klass, WARP_CLASS_HOT);
    assert_int_equal(items[1].where.klass, WARP_CLASS_WARM);
    assert_int_equal(items[2].where.klass, WARP_CLASS_COLD);
    assert_ok(warp_get(db, "p:0", 3, buf, sizeof(buf), &vlen, &at));
    assert_int_equal(at.access_pattern, WARP_ACCESS_HOT);
    assert_int_equal(at.priority, WARP_PRIORITY_LOW);
    assert_ok(warp_get(db, "p:2", 3, buf, sizeof(buf), &vlen, &at));
    assert_int_equal(at.access_pattern, WARP_ACCESS_BALANCED);
    assert_int_equal(at.priority, WARP_PRIORITY_BACKGROUND);
    free_put_items(items, 3);
}

static void put_batch_duplicate_key_ends_with_last_value(void **state)
{
    warp_db *db = *state;
    warp_put_item items[] = {
        {.key = "dup", .klen = 3, .val = "first", .vlen = 5},
        {.key = "other", .klen = 5, .val = "o", .vlen = 1},
        {.key = "dup", .klen = 3, .val = "second!", .vlen = 7},
        {.key = "dup", .klen = 3, .val = "last", .vlen = 4},
    };

    assert_ok(warp_put_batch(db, items, ARRAY_SIZE(items), NULL));
    assert_get_str(db, "dup", "last");
    assert_get_str(db, "other", "o");
    assert_counts(db, 2, 8, 5);
}

static void put_batch_with_zero_items_changes_nothing(void **state)
{
    warp_db *db = *state;

    put_str(db, "k", "v");
    assert_ok(warp_put_batch(db, NULL, 0, NULL));
    assert_counts(db, 1, 1, 1);
    assert_get_str(db, "k", "v");
}

/* Assert that a failed batch of make_put_items(5) left the store as it was
 * before: "p:1" still holds "old", the other keys do not exist. */
static void assert_failed_batch_changed_nothing(warp_db *db,
                                                const warp_stats *before)
{
    warp_stats after = stats_of(db);

    assert_get_notfound(db, "p:0", 3);
    assert_get_str(db, "p:1", "old");
    assert_get_notfound(db, "p:3", 3);
    assert_get_notfound(db, "p:4", 3);
    assert_int_equal(after.keys, before->keys);
    assert_int_equal(after.key_bytes, before->key_bytes);
    assert_int_equal(after.value_bytes, before->value_bytes);
    assert_int_equal(after.puts, before->puts);
}

static void put_batch_with_oversized_key_fails_whole_batch(void **state)
{
    warp_options opts;
    warp_db *db;
    warp_put_item *items = make_put_items(5);
    char big_key[17];
    size_t failed = 12345;
    warp_stats before;

    warp_options_init(&opts);
    opts.max_key_size = 16;
    db = own_store(state, &opts);
    put_str(db, "p:1", "old");
    before = stats_of(db);
    memset(big_key, 'K', sizeof(big_key));
    free((void *)items[2].key);
    items[2].key = big_key;
    items[2].klen = sizeof(big_key);
    assert_rc(warp_put_batch(db, items, 5, &failed), WARP_ETOOBIG);
    assert_int_equal(failed, 2);
    assert_failed_batch_changed_nothing(db, &before);
    items[2].key = NULL;
    free_put_items(items, 5);
}

static void put_batch_with_oversized_value_fails_whole_batch(void **state)
{
    warp_options opts;
    warp_db *db;
    warp_put_item *items = make_put_items(5);
    uint8_t big_val[101];
    size_t failed = 12345;
    warp_stats before;

    warp_options_init(&opts);
    opts.max_value_size = 100;
    db = own_store(state, &opts);
    put_str(db, "p:1", "old");
    before = stats_of(db);
    memset(big_val, 'V', sizeof(big_val));
    free((void *)items[4].val);
    items[4].val = big_val;
    items[4].vlen = sizeof(big_val);
    assert_rc(warp_put_batch(db, items, 5, &failed), WARP_ETOOBIG);
    assert_int_equal(failed, 4);
    assert_failed_batch_changed_nothing(db, &before);
    items[4].val = NULL;
    free_put_items(items, 5);
}

static void put_batch_with_invalid_hint_fails_whole_batch(void **state)
{
    warp_db *db = *state;
    warp_put_item *items = make_put_items(5);
    warp_put_options bad = {(warp_access_pattern)17, WARP_PRIORITY_NORMAL};
    size_t failed = 12345;
    warp_stats before;

    put_str(db, "p:1", "old");
    before = stats_of(db);
    items[3].opts = &bad;
    assert_rc(warp_put_batch(db, items, 5, &failed), WARP_EINVAL);
    assert_int_equal(failed, 3);
    assert_failed_batch_changed_nothing(db, &before);
    free_put_items(items, 5);
}

static void put_batch_with_null_value_fails_whole_batch(void **state)
{
    warp_db *db = *state;
    warp_put_item *items = make_put_items(5);
    size_t failed = 12345;
    warp_stats before;

    put_str(db, "p:1", "old");
    before = stats_of(db);
    free((void *)items[3].val);
    items[3].val = NULL; /* with a nonzero vlen */
    assert_rc(warp_put_batch(db, items, 5, &failed), WARP_EINVAL);
    assert_int_equal(failed, 3);
    assert_failed_batch_changed_nothing(db, &before);
    free_put_items(items, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(get_batch_reports_each_hit_and_miss),
        STORE_TEST(get_batch_reports_stored_hints),
        STORE_TEST(get_batch_small_buffer_fails_only_that_item),
        STORE_TEST(get_batch_null_buffer_reports_length),
        STORE_TEST(get_batch_with_zero_items_succeeds),
        STORE_TEST(get_batch_item_with_null_key_alone_is_einval),
        STORE_TEST(get_batch_of_1000_items_matches_the_store),
        STORE_TEST(get_batch_of_a_repeated_key_answers_every_item),
        STORE_TEST(put_batch_stores_every_item),
        STORE_TEST(put_batch_overwrites_existing_keys),
        STORE_TEST(put_batch_stores_each_items_hints),
        STORE_TEST(put_batch_duplicate_key_ends_with_last_value),
        STORE_TEST(put_batch_with_zero_items_changes_nothing),
        OWN_STORE_TEST(put_batch_with_oversized_key_fails_whole_batch),
        OWN_STORE_TEST(put_batch_with_oversized_value_fails_whole_batch),
        STORE_TEST(put_batch_with_invalid_hint_fails_whole_batch),
        STORE_TEST(put_batch_with_null_value_fails_whole_batch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
