/*
 * test-api.c - the single-key API: put, get, get_alloc, delete, exists,
 * placement and hints, stats, and the shards option.
 *
 * Black-box: only include/warp.h. Each test is named after the behaviour
 * it pins.
 */
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Round trips                                                               */
/* ------------------------------------------------------------------------ */

static void empty_key_round_trips(void **state)
{
    warp_db *db = *state;

    assert_get_notfound(db, "", 0);
    assert_ok(warp_put(db, "", 0, "empty", 5, NULL, NULL));
    assert_get_equals(db, "", 0, "empty", 5);
    /* A NULL key of length 0 is the same empty key. */
    assert_get_equals(db, NULL, 0, "empty", 5);
    assert_ok(warp_exists(db, NULL, 0));
    assert_counts(db, 1, 0, 5);
}

static void empty_key_is_distinct_from_a_nul_byte_key(void **state)
{
    warp_db *db = *state;

    assert_ok(warp_put(db, "", 0, "empty", 5, NULL, NULL));
    assert_get_notfound(db, "\0", 1);
    assert_ok(warp_put(db, "\0", 1, "nul", 3, NULL, NULL));
    assert_get_equals(db, "", 0, "empty", 5);
    assert_get_equals(db, "\0", 1, "nul", 3);
    assert_counts(db, 2, 1, 8);
}

static void keys_and_values_with_nul_bytes_round_trip(void **state)
{
    warp_db *db = *state;
    static const char k1[] = "a\0b", k2[] = "a\0c", k3[] = "\0\0\0";
    static const char v1[] = "x\0y\0", v2[] = "\0", v3[] = "\0\0z\0\0";

    assert_ok(warp_put(db, k1, 3, v1, 4, NULL, NULL));
    assert_ok(warp_put(db, k2, 3, v2, 1, NULL, NULL));
    assert_ok(warp_put(db, k3, 3, v3, 5, NULL, NULL));
    assert_get_equals(db, k1, 3, v1, 4);
    assert_get_equals(db, k2, 3, v2, 1);
    assert_get_equals(db, k3, 3, v3, 5);
    /* The bytes after a NUL are part of the key: "a" is not "a\0b". */
    assert_get_notfound(db, "a", 1);
    assert_get_notfound(db, k1, 2);
    assert_counts(db, 3, 9, 10);
}

static void put_and_get_value_of_size(warp_db *db, size_t len)
{
    uint8_t *val = make_value(len, len);

    assert_ok(warp_put(db, "big", 3, val, len, NULL, NULL));
    assert_get_equals(db, "big", 3, val, len);
    assert_counts(db, 1, 3, len);
    free(val);
}

static void value_of_16_kib_round_trips(void **state)
{
    put_and_get_value_of_size(*state, 16 * 1024);
}

static void value_of_1_mib_round_trips(void **state)
{
    put_and_get_value_of_size(*state, 1024 * 1024);
}

static void zero_length_value_round_trips(void **state)
{
    warp_db *db = *state;
    uint8_t buf[4] = {7, 7, 7, 7};
    size_t vlen = 99;
    void *copy = NULL;

    assert_ok(warp_put(db, "k", 1, NULL, 0, NULL, NULL));
    assert_ok(warp_exists(db, "k", 1));
    assert_ok(warp_get(db, "k", 1, buf, sizeof(buf), &vlen, NULL));
    assert_int_equal(vlen, 0);
    assert_int_equal(buf[0], 7);
    /* With a NULL buffer of capacity 0 the empty value still fits. */
    vlen = 99;
    assert_ok(warp_get(db, "k", 1, NULL, 0, &vlen, NULL));
    assert_int_equal(vlen, 0);
    /* get_alloc hands back an empty, NUL-terminated string. */
    vlen = 99;
    assert_ok(warp_get_alloc(db, "k", 1, &copy, &vlen, NULL));
    assert_non_null(copy);
    assert_int_equal(vlen, 0);
    assert_int_equal(((char *)copy)[0], '\0');
    warp_free(copy);
    assert_counts(db, 1, 1, 0);
}

static void overwrite_replaces_value(void **state)
{
    warp_db *db = *state;

    put_str(db, "k", "the first, longer value");
    put_str(db, "k", "v2");
    assert_get_str(db, "k", "v2");
    assert_counts(db, 1, 1, 2);
    put_str(db, "k", "a third value, longer than both before");
    assert_get_str(db, "k", "a third value, longer than both before");
    assert_counts(db, 1, 1, 38);
}

static void get_after_delete_returns_notfound(void **state)
{
    warp_db *db = *state;
    void *copy = (void *)&copy;
    size_t vlen;

    put_str(db, "doomed", "value");
    put_str(db, "kept", "value");
    assert_ok(warp_delete(db, "doomed", 6));
    assert_get_notfound(db, "doomed", 6);
    assert_rc(warp_get_alloc(db, "doomed", 6, &copy, &vlen, NULL),
              WARP_NOTFOUND);
    assert_null(copy);
    assert_get_str(db, "kept", "value");
    assert_counts(db, 1, 4, 5);
}

static void put_after_delete_stores_the_key_again(void **state)
{
    warp_db *db = *state;

    put_str(db, "phoenix", "first life");
    assert_ok(warp_delete(db, "phoenix", 7));
    put_str(db, "phoenix", "second");
    assert_get_str(db, "phoenix", "second");
    assert_counts(db, 1, 7, 6);
}

static void
delete_of_missing_key_returns_notfound_and_changes_nothing(void **state)
{
    warp_db *db = *state;
    warp_stats before, after;

    put_str(db, "a", "1");
    put_str(db, "b", "22");
    before = stats_of(db);
    assert_rc(warp_delete(db, "c", 1), WARP_NOTFOUND);
    assert_rc(warp_delete(db, "", 0), WARP_NOTFOUND);
    assert_rc(warp_delete(db, "a\0", 2), WARP_NOTFOUND);
    after = stats_of(db);
    assert_int_equal(after.keys, before.keys);
    assert_int_equal(after.key_bytes, before.key_bytes);
    assert_int_equal(after.value_bytes, before.value_bytes);
    assert_get_str(db, "a", "1");
    assert_get_str(db, "b", "22");
}

static void second_delete_of_a_key_returns_notfound(void **state)
{
    warp_db *db = *state;

    put_str(db, "once", "v");
    assert_ok(warp_delete(db, "once", 4));
    assert_rc(warp_delete(db, "once", 4), WARP_NOTFOUND);
    assert_counts(db, 0, 0, 0);
}

static void exists_follows_put_and_delete(void **state)
{
    warp_db *db = *state;

    assert_rc(warp_exists(db, "k", 1), WARP_NOTFOUND);
    put_str(db, "k", "v");
    assert_ok(warp_exists(db, "k", 1));
    assert_rc(warp_exists(db, "K", 1), WARP_NOTFOUND);
    assert_ok(warp_delete(db, "k", 1));
    assert_rc(warp_exists(db, "k", 1), WARP_NOTFOUND);
}

/* ------------------------------------------------------------------------ */
/* Buffers                                                                   */
/* ------------------------------------------------------------------------ */

static void get_with_small_buffer_returns_erange_and_needed_length(void **state)
{
    warp_db *db = *state;
    const char *val = "0123456789";
    uint8_t buf[16], untouched[16];
    size_t vlen = 0;

    put_str(db, "k", val);
    memset(buf, 0x5A, sizeof(buf));
    memcpy(untouched, buf, sizeof(buf));
    assert_rc(warp_get(db, "k", 1, buf, 9, &vlen, NULL), WARP_ERANGE);
    assert_int_equal(vlen, 10);
    assert_memory_equal(buf, untouched, sizeof(buf));
    assert_rc(warp_get(db, "k", 1, buf, 1, &vlen, NULL), WARP_ERANGE);
    assert_int_equal(vlen, 10);
    assert_memory_equal(buf, untouched, sizeof(buf));
    /* Retrying with the reported length succeeds. */
    assert_ok(warp_get(db, "k", 1, buf, vlen, &vlen, NULL));
    assert_int_equal(vlen, 10);
    assert_memory_equal(buf, val, 10);
    assert_int_equal(buf[10], 0x5A);
}

static void get_with_null_buffer_and_zero_cap_reports_length(void **state)
{
    warp_db *db = *state;
    size_t vlen = 0;

    put_str(db, "k", "twelve bytes");
    assert_rc(warp_get(db, "k", 1, NULL, 0, &vlen, NULL), WARP_ERANGE);
    assert_int_equal(vlen, 12);
    assert_rc(warp_get(db, "missing", 7, NULL, 0, &vlen, NULL), WARP_NOTFOUND);
}

static void get_alloc_returns_nul_terminated_copy(void **state)
{
    warp_db *db = *state;
    static const char val[] = "ab\0cd";
    void *copy = NULL;
    size_t vlen = 0;
    warp_placement where, located;

    assert_ok(warp_put(db, "k", 1, val, 5, NULL, NULL));
    assert_ok(warp_get_alloc(db, "k", 1, &copy, &vlen, &where));
    assert_non_null(copy);
    assert_int_equal(vlen, 5);
    assert_memory_equal(copy, val, 5);
    assert_int_equal(((char *)copy)[5], '\0');
    assert_ok(warp_locate(db, "k", 1, &located));
    assert_same_location(where, located);
    /* The copy belongs to the caller: changing it leaves the store alone. */
    memset(copy, 'X', 5);
    warp_free(copy);
    assert_get_equals(db, "k", 1, val, 5);
}

static void get_alloc_of_missing_key_returns_notfound_and_null(void **state)
{
    warp_db *db = *state;
    void *copy = (void *)&copy;
    size_t vlen;

    assert_rc(warp_get_alloc(db, "missing", 7, &copy, &vlen, NULL),
              WARP_NOTFOUND);
    assert_null(copy);
}

/* ------------------------------------------------------------------------ */
/* Placement                                                                 */
/* ------------------------------------------------------------------------ */

static void placement_of_put_get_and_locate_agree(void **state)
{
    warp_db *db = *state;
    uint32_t shards = warp_shard_count(db);
    char key[64];

    assert_int_equal(shards, 16);
    for (uint64_t i = 0; i < 1000; i++) {
        size_t klen = format_key(key, sizeof(key), "place", i);
        warp_placement before, put_at, got_at, after;
        size_t vlen;
        uint8_t buf[8];

        assert_ok(warp_locate(db, key, klen, &before));
        assert_ok(warp_put(db, key, klen, "v", 1, NULL, &put_at));
        assert_ok(warp_get(db, key, klen, buf, sizeof(buf), &vlen, &got_at));
        assert_ok(warp_locate(db, key, klen, &after));
        assert_in_range(put_at.shard, 0, shards - 1);
        assert_in_range(put_at.slot, 0, WARP_SLOTS - 1);
        assert_same_location(put_at, before);
        assert_same_location(put_at, got_at);
        assert_same_location(put_at, after);
    }
}

static void keys_in_the_same_slot_share_a_shard(void **state)
{
    warp_db *db = *state;
    static int32_t shard_of_slot[WARP_SLOTS];
    char key[64];

    for (size_t s = 0; s < WARP_SLOTS; s++)
        shard_of_slot[s] = -1;
    for (uint64_t i = 0; i < 50000; i++) {
        size_t klen = format_key(key, sizeof(key), "slot", i);
        warp_placement at;

        assert_ok(warp_locate(db, key, klen, &at));
        assert_in_range(at.slot, 0, WARP_SLOTS - 1);
        if (shard_of_slot[at.slot] < 0)
            shard_of_slot[at.slot] = (int32_t)at.shard;
        assert_int_equal(at.shard, shard_of_slot[at.slot]);
    }
}

static void slot_depends_only_on_the_key(void **state)
{
    warp_db *one = open_store_with_shards(1);
    warp_db *seven = open_store_with_shards(7);
    warp_db *dflt = *state;
    char key[64];

    for (uint64_t i = 0; i < 1000; i++) {
        size_t klen = format_key(key, sizeof(key), "slot", i);
        warp_placement a, b, c;

        assert_ok(warp_locate(one, key, klen, &a));
        assert_ok(warp_locate(seven, key, klen, &b));
        assert_ok(warp_locate(dflt, key, klen, &c));
        assert_int_equal(a.slot, b.slot);
        assert_int_equal(a.slot, c.slot);
    }
    warp_close(one);
    warp_close(seven);
}

static void locate_does_not_create_the_key(void **state)
{
    warp_db *db = *state;
    warp_placement at;

    assert_ok(warp_locate(db, "ghost", 5, &at));
    assert_get_notfound(db, "ghost", 5);
    assert_counts(db, 0, 0, 0);
}

/* ------------------------------------------------------------------------ */
/* Hints and classes                                                         */
/* ------------------------------------------------------------------------ */

static const warp_access_pattern all_patterns[] = {
    WARP_ACCESS_BALANCED, WARP_ACCESS_HOT, WARP_ACCESS_WARM, WARP_ACCESS_COLD};
static const warp_priority all_priorities[] = {
    WARP_PRIORITY_NORMAL, WARP_PRIORITY_CRITICAL, WARP_PRIORITY_HIGH,
    WARP_PRIORITY_LOW, WARP_PRIORITY_BACKGROUND};

/* Assert that `at` carries the hints `a`, `p` and the class they give. */
static void assert_hints(const warp_placement *at, warp_access_pattern a,
                         warp_priority p)
{
    assert_int_equal(at->access_pattern, a);
    assert_int_equal(at->priority, p);
    assert_int_equal(at->klass, warp_class_of(a, p));
}

static void class_of_follows_upstream_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(all_priorities); i++) {
        warp_priority p = all_priorities[i];

        /* An explicit access pattern decides, whatever the priority. */
        assert_int_equal(warp_class_of(WARP_ACCESS_HOT, p), WARP_CLASS_HOT);
        assert_int_equal(warp_class_of(WARP_ACCESS_WARM, p), WARP_CLASS_WARM);
        assert_int_equal(warp_class_of(WARP_ACCESS_COLD, p), WARP_CLASS_COLD);
    }
    /* Balanced goes by priority. */
    assert_int_equal(
        warp_class_of(WARP_ACCESS_BALANCED, WARP_PRIORITY_CRITICAL),
        WARP_CLASS_HOT);
    assert_int_equal(warp_class_of(WARP_ACCESS_BALANCED, WARP_PRIORITY_HIGH),
                     WARP_CLASS_HOT);
    assert_int_equal(warp_class_of(WARP_ACCESS_BALANCED, WARP_PRIORITY_NORMAL),
                     WARP_CLASS_WARM);
    assert_int_equal(warp_class_of(WARP_ACCESS_BALANCED, WARP_PRIORITY_LOW),
                     WARP_CLASS_COLD);
    assert_int_equal(
        warp_class_of(WARP_ACCESS_BALANCED, WARP_PRIORITY_BACKGROUND),
        WARP_CLASS_COLD);
}

static void class_of_treats_out_of_range_hints_as_defaults(void **state)
{
    (void)state;
    /* An unknown pattern counts as balanced: the priority decides. */
    assert_int_equal(
        warp_class_of((warp_access_pattern)17, WARP_PRIORITY_NORMAL),
        WARP_CLASS_WARM);
    assert_int_equal(
        warp_class_of((warp_access_pattern)17, WARP_PRIORITY_CRITICAL),
        WARP_CLASS_HOT);
    assert_int_equal(
        warp_class_of((warp_access_pattern)-1, WARP_PRIORITY_BACKGROUND),
        WARP_CLASS_COLD);
    /* An unknown priority counts as normal. */
    assert_int_equal(warp_class_of(WARP_ACCESS_BALANCED, (warp_priority)99),
                     WARP_CLASS_WARM);
    assert_int_equal(warp_class_of(WARP_ACCESS_HOT, (warp_priority)99),
                     WARP_CLASS_HOT);
    assert_int_equal(warp_class_of(WARP_ACCESS_COLD, (warp_priority)-1),
                     WARP_CLASS_COLD);
}

static void hints_are_stored_per_key_and_reported_by_put_and_get(void **state)
{
    warp_db *db = *state;
    char key[64];
    uint8_t buf[8];
    size_t vlen;

    for (size_t i = 0; i < ARRAY_SIZE(all_patterns); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(all_priorities); j++) {
            size_t klen = format_key(key, sizeof(key), "hint", i * 10 + j);
            warp_put_options po = {all_patterns[i], all_priorities[j]};
            warp_placement at;

            assert_ok(warp_put(db, key, klen, "v", 1, &po, &at));
            assert_hints(&at, all_patterns[i], all_priorities[j]);
        }
    }
    /* Read back after all are written: each key kept its own hints. */
    for (size_t i = 0; i < ARRAY_SIZE(all_patterns); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(all_priorities); j++) {
            size_t klen = format_key(key, sizeof(key), "hint", i * 10 + j);
            warp_placement at;

            assert_ok(warp_get(db, key, klen, buf, sizeof(buf), &vlen, &at));
            assert_hints(&at, all_patterns[i], all_priorities[j]);
        }
    }
}

static void put_without_options_stores_default_hints(void **state)
{
    warp_db *db = *state;
    warp_placement at;
    uint8_t buf[8];
    size_t vlen;

    assert_ok(warp_put(db, "k", 1, "v", 1, NULL, &at));
    assert_hints(&at, WARP_ACCESS_BALANCED, WARP_PRIORITY_NORMAL);
    assert_int_equal(at.klass, WARP_CLASS_WARM);
    assert_ok(warp_get(db, "k", 1, buf, sizeof(buf), &vlen, &at));
    assert_hints(&at, WARP_ACCESS_BALANCED, WARP_PRIORITY_NORMAL);
}

static void later_put_overwrites_hints(void **state)
{
    warp_db *db = *state;
    warp_put_options hot = {WARP_ACCESS_HOT, WARP_PRIORITY_CRITICAL};
    warp_put_options cold = {WARP_ACCESS_BALANCED, WARP_PRIORITY_BACKGROUND};
    warp_placement at;
    uint8_t buf[8];
    size_t vlen;

    assert_ok(warp_put(db, "k", 1, "v1", 2, &hot, NULL));
    assert_ok(warp_put(db, "k", 1, "v2", 2, &cold, NULL));
    assert_ok(warp_get(db, "k", 1, buf, sizeof(buf), &vlen, &at));
    assert_hints(&at, WARP_ACCESS_BALANCED, WARP_PRIORITY_BACKGROUND);
    assert_int_equal(at.klass, WARP_CLASS_COLD);
    /* A put without options resets the hints to the defaults. */
    assert_ok(warp_put(db, "k", 1, "v3", 2, NULL, NULL));
    assert_ok(warp_get(db, "k", 1, buf, sizeof(buf), &vlen, &at));
    assert_hints(&at, WARP_ACCESS_BALANCED, WARP_PRIORITY_NORMAL);
    assert_memory_equal(buf, "v3", 2);
}

static void locate_reports_default_hints_whatever_is_stored(void **state)
{
    warp_db *db = *state;
    warp_put_options hot = {WARP_ACCESS_HOT, WARP_PRIORITY_CRITICAL};
    warp_placement at;

    assert_ok(warp_put(db, "k", 1, "v", 1, &hot, NULL));
    assert_ok(warp_locate(db, "k", 1, &at));
    assert_hints(&at, WARP_ACCESS_BALANCED, WARP_PRIORITY_NORMAL);
}

static void hint_names_parse_back_to_their_values(void **state)
{
    static const char *pattern_names[] = {"balanced", "hot", "warm", "cold"};
    static const char *priority_names[] = {"normal", "critical", "high", "low",
                                           "background"};
    static const char *class_names[] = {"hot", "warm", "cold"};

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(pattern_names); i++) {
        warp_access_pattern a = (warp_access_pattern)99;

        assert_string_equal(warp_access_pattern_name(all_patterns[i]),
                            pattern_names[all_patterns[i]]);
        assert_ok(warp_access_pattern_parse(pattern_names[i], &a));
        assert_int_equal(a, i);
    }
    for (size_t i = 0; i < ARRAY_SIZE(priority_names); i++) {
        warp_priority p = (warp_priority)99;

        assert_string_equal(warp_priority_name(all_priorities[i]),
                            priority_names[all_priorities[i]]);
        assert_ok(warp_priority_parse(priority_names[i], &p));
        assert_int_equal(p, i);
    }
    for (size_t i = 0; i < ARRAY_SIZE(class_names); i++)
        assert_string_equal(warp_class_name((warp_class)i), class_names[i]);
}

static void hint_names_out_of_range_are_question_marks(void **state)
{
    (void)state;
    assert_string_equal(warp_access_pattern_name((warp_access_pattern)4), "?");
    assert_string_equal(warp_access_pattern_name((warp_access_pattern)-1), "?");
    assert_string_equal(warp_priority_name((warp_priority)5), "?");
    assert_string_equal(warp_class_name((warp_class)3), "?");
}

static void hint_parse_rejects_unknown_names_and_leaves_output(void **state)
{
    static const char *bad[] = {"HOT", "Hot", "", "hot ", "lukewarm", "?"};
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        warp_access_pattern a = WARP_ACCESS_COLD;
        warp_priority p = WARP_PRIORITY_LOW;

        assert_rc(warp_access_pattern_parse(bad[i], &a), WARP_EINVAL);
        assert_int_equal(a, WARP_ACCESS_COLD);
        assert_rc(warp_priority_parse(bad[i], &p), WARP_EINVAL);
        assert_int_equal(p, WARP_PRIORITY_LOW);
    }
}

/* ------------------------------------------------------------------------ */
/* Stats                                                                     */
/* ------------------------------------------------------------------------ */

static void empty_store_has_zero_counts(void **state)
{
    warp_db *db = *state;
    warp_stats st = stats_of(db);

    assert_int_equal(st.keys, 0);
    assert_int_equal(st.key_bytes, 0);
    assert_int_equal(st.value_bytes, 0);
    assert_int_equal(st.puts, 0);
    assert_int_equal(st.deletes, 0);
    assert_int_equal(st.shards, 16);
    assert_int_equal(st.overhead_bytes, st.memory_bytes);
}

static void put_n(warp_db *db, const char *key, size_t vlen)
{
    uint8_t *val = make_value(vlen, vlen);

    assert_ok(warp_put(db, key, strlen(key), val, vlen, NULL, NULL));
    free(val);
}

static void stats_count_keys_and_bytes_exactly(void **state)
{
    warp_db *db = *state;
    warp_stats st;
    uint8_t buf[128];
    size_t vlen;

    put_n(db, "alpha", 10);
    assert_counts(db, 1, 5, 10);
    put_n(db, "beta", 20);
    assert_counts(db, 2, 9, 30);
    put_n(db, "gamma", 0);
    assert_counts(db, 3, 14, 30);
    put_n(db, "alpha", 3); /* overwrite, shorter */
    assert_counts(db, 3, 14, 23);
    put_n(db, "gamma", 100); /* overwrite, longer */
    assert_counts(db, 3, 14, 123);
    assert_ok(warp_delete(db, "beta", 4));
    assert_counts(db, 2, 10, 103);
    put_n(db, "", 7); /* the empty key */
    assert_counts(db, 3, 10, 110);
    put_n(db, "beta", 1); /* back again */
    assert_counts(db, 4, 14, 111);
    /* A delete of a missing key and reads are not writes. */
    assert_rc(warp_delete(db, "delta", 5), WARP_NOTFOUND);
    assert_ok(warp_get(db, "alpha", 5, buf, sizeof(buf), &vlen, NULL));
    assert_ok(warp_exists(db, "gamma", 5));

    st = stats_of(db);
    assert_int_equal(st.puts, 7);
    assert_int_equal(st.deletes, 1);
    assert_true(st.memory_bytes >= st.key_bytes + st.value_bytes);
    assert_int_equal(st.overhead_bytes,
                     st.memory_bytes - st.key_bytes - st.value_bytes);
}

static void shard_stats_add_up_to_store_stats(void **state)
{
    warp_db *db = *state;
    uint64_t keys_in[16] = {0}, keys = 0, kbytes = 0, vbytes = 0, slots = 0;
    uint8_t val[50];
    warp_stats st;
    char key[64];

    fill_value(val, sizeof(val), 50);

    for (uint64_t i = 0; i < 2000; i++) {
        size_t klen = format_key(key, sizeof(key), "sum", i);
        warp_placement at;

        assert_ok(warp_put(db, key, klen, val, i % 50, NULL, &at));
        keys_in[at.shard]++;
    }
    for (uint32_t s = 0; s < 16; s++) {
        warp_shard_stats ss;

        assert_ok(warp_shard_stats_get(db, s, &ss));
        assert_int_equal(ss.keys, keys_in[s]);
        assert_true(ss.memory_bytes >= ss.key_bytes + ss.value_bytes);
        keys += ss.keys;
        kbytes += ss.key_bytes;
        vbytes += ss.value_bytes;
        slots += ss.slots;
    }
    st = stats_of(db);
    assert_int_equal(keys, st.keys);
    assert_int_equal(kbytes, st.key_bytes);
    assert_int_equal(vbytes, st.value_bytes);
    assert_int_equal(slots, WARP_SLOTS);
}

/* ------------------------------------------------------------------------ */
/* The shards option                                                         */
/* ------------------------------------------------------------------------ */

static void one_shard_holds_every_key(void **state)
{
    warp_db *db = own_store_with_shards(state, 1);
    warp_shard_stats ss;
    char key[64];

    assert_int_equal(warp_shard_count(db), 1);
    for (uint64_t i = 0; i < 1000; i++) {
        size_t klen = format_key(key, sizeof(key), "one", i);
        warp_placement at;

        assert_ok(warp_put(db, key, klen, "v", 1, NULL, &at));
        assert_int_equal(at.shard, 0);
    }
    assert_ok(warp_shard_stats_get(db, 0, &ss));
    assert_int_equal(ss.keys, 1000);
    assert_int_equal(ss.slots, WARP_SLOTS);
    assert_rc(warp_shard_stats_get(db, 1, &ss), WARP_EINVAL);
}

static void seven_shards_are_all_used(void **state)
{
    warp_db *db = own_store_with_shards(state, 7);
    uint64_t keys_in[7] = {0};
    char key[64];

    assert_int_equal(warp_shard_count(db), 7);
    assert_int_equal(stats_of(db).shards, 7);
    for (uint64_t i = 0; i < 10000; i++) {
        size_t klen = format_key(key, sizeof(key), "seven", i);
        warp_placement at;

        assert_ok(warp_put(db, key, klen, "v", 1, NULL, &at));
        assert_in_range(at.shard, 0, 6);
        keys_in[at.shard]++;
    }
    for (uint32_t s = 0; s < 7; s++) {
        warp_shard_stats ss;

        assert_true(keys_in[s] > 0);
        assert_ok(warp_shard_stats_get(db, s, &ss));
        assert_int_equal(ss.keys, keys_in[s]);
        assert_true(ss.slots > 0);
    }
}

/* ------------------------------------------------------------------------ */
/* Iteration                                                                 */
/* ------------------------------------------------------------------------ */

#define FOREACH_KEYS 1000

/* What a warp_foreach walk saw: how often each key "fe:<i>" was visited,
 * and whether any pair broke the rules: a value or placement other than its
 * key's, or a slot whose pairs did not all come together. The walk asks to
 * stop (returns 42) after `stop_after` calls. */
typedef struct walk {
    warp_db *db;
    unsigned visits[FOREACH_KEYS];
    size_t calls, stop_after;
    bool slot_done[WARP_SLOTS];
    int32_t current_slot;
    bool wrong;
} walk;

/* Key i of the iteration tests, its value, and its hints. */
static size_t fe_value(uint64_t i, uint8_t *val)
{
    fill_value(val, i % 40, i);
    return i % 40;
}

static warp_put_options fe_hints(uint64_t i)
{
    return (warp_put_options){all_patterns[i % 4], all_priorities[i % 5]};
}

/* Whether a pair seen by the walk is key fe:<i> with its value and
 * placement; *i receives the key's number. */
static bool pair_is_right(walk *w, const void *key, size_t klen,
                          const void *val, size_t vlen,
                          const warp_placement *where, unsigned long long *i)
{
    char buf[64];
    uint8_t want[40];
    warp_placement at;
    warp_put_options hints;

    if (klen >= sizeof(buf))
        return false;
    memcpy(buf, key, klen);
    buf[klen] = '\0';
    if (sscanf(buf, "fe:%llu", i) != 1 || *i >= FOREACH_KEYS)
        return false;
    hints = fe_hints(*i);
    if (warp_locate(w->db, key, klen, &at) != WARP_OK)
        return false;
    return vlen == fe_value(*i, want) && memcmp(val, want, vlen) == 0 &&
           where->slot == at.slot && where->shard == at.shard &&
           where->access_pattern == hints.access_pattern &&
           where->priority == hints.priority;
}

static int visit(void *ctx, const void *key, size_t klen, const void *val,
                 size_t vlen, const warp_placement *where)
{
    walk *w = ctx;
    unsigned long long i;

    w->calls++;
    if (!pair_is_right(w, key, klen, val, vlen, where, &i)) {
        w->wrong = true;
        return -1;
    }
    w->visits[i]++;
    if ((int32_t)where->slot != w->current_slot) {
        if (w->slot_done[where->slot])
            w->wrong = true; /* back to a slot it had left */
        w->slot_done[where->slot] = true;
        w->current_slot = (int32_t)where->slot;
    }
    return w->calls == w->stop_after ? 42 : 0;
}

/* Store keys fe:0 .. fe:<n-1> with their values and hints. */
static void put_fe_keys(warp_db *db, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        char key[64];
        uint8_t val[40];
        size_t klen = format_key(key, sizeof(key), "fe", i);
        size_t vlen = fe_value(i, val);
        warp_put_options hints = fe_hints(i);

        assert_ok(warp_put(db, key, klen, val, vlen, &hints, NULL));
    }
}

static walk *new_walk(warp_db *db)
{
    walk *w = calloc(1, sizeof(*w));

    assert_non_null(w);
    w->db = db;
    w->current_slot = -1;
    return w;
}

static void foreach_visits_every_pair_once_slot_by_slot(void **state)
{
    warp_db *db = *state;
    walk *w = new_walk(db);
    char key[64];

    put_fe_keys(db, FOREACH_KEYS);
    /* Deleted keys are not visited. */
    for (uint64_t i = 0; i < FOREACH_KEYS; i += 10)
        assert_ok(warp_delete(db, key, format_key(key, sizeof(key), "fe", i)));
    assert_ok(warp_foreach(db, visit, w));
    assert_false(w->wrong);
    for (size_t i = 0; i < FOREACH_KEYS; i++)
        assert_int_equal(w->visits[i], i % 10 == 0 ? 0 : 1);
    assert_int_equal(w->calls, FOREACH_KEYS - FOREACH_KEYS / 10);
    free(w);
}

static void foreach_stops_when_the_callback_returns_nonzero(void **state)
{
    warp_db *db = *state;
    walk *w = new_walk(db);

    put_fe_keys(db, 100);
    w->stop_after = 10;
    assert_int_equal(warp_foreach(db, visit, w), 42);
    assert_int_equal(w->calls, 10);
    assert_false(w->wrong);
    free(w);
}

/* A walk from slot s visits exactly the pairs of slots s.. (each once,
 * slot by slot), none before; from WARP_SLOTS it visits nothing. */
static void
foreach_from_a_slot_visits_that_slot_and_the_ones_after(void **state)
{
    warp_db *db = *state;
    walk *all = new_walk(db);
    uint32_t firsts[] = {0, 1, WARP_SLOTS / 3, WARP_SLOTS - 1, WARP_SLOTS};

    put_fe_keys(db, FOREACH_KEYS);
    assert_ok(warp_foreach(db, visit, all)); /* where each key lives */
    for (size_t f = 0; f < sizeof(firsts) / sizeof(firsts[0]); f++) {
        walk *w = new_walk(db);
        size_t want = 0;
        assert_ok(warp_foreach_from(db, firsts[f], visit, w));
        assert_false(w->wrong);
        for (uint32_t s = 0; s < WARP_SLOTS; s++)
            if (w->slot_done[s])
                assert_true(s >= firsts[f] && all->slot_done[s]);
        for (size_t i = 0; i < FOREACH_KEYS; i++) {
            char key[64];
            warp_placement at;
            assert_ok(warp_locate(db, key,
                                  format_key(key, sizeof(key), "fe", i), &at));
            bool after = at.slot >= firsts[f];
            assert_int_equal(w->visits[i], after ? 1 : 0);
            want += after;
        }
        assert_int_equal(w->calls, want);
        free(w);
    }
    free(all);
}

/* warp_foreach_keys_from()'s callback: each key fe:<i> once, with its
 * value's length and its placement. */
static int visit_key(void *ctx, const void *key, size_t klen, size_t vlen,
                     const warp_placement *where)
{
    walk *w = ctx;
    uint8_t val[40];
    char buf[64];
    unsigned long long i;
    warp_placement at;

    w->calls++;
    snprintf(buf, sizeof(buf), "%.*s", (int)klen, (const char *)key);
    if (sscanf(buf, "fe:%llu", &i) != 1 || i >= FOREACH_KEYS ||
        vlen != fe_value(i, val) ||
        warp_locate(w->db, key, klen, &at) != WARP_OK ||
        at.slot != where->slot || at.shard != where->shard) {
        w->wrong = true;
        return -1;
    }
    w->visits[i]++;
    return w->calls == w->stop_after ? 42 : 0;
}

/* The keys' walk visits what the pairs' walk does, from every start. */
static void foreach_keys_from_visits_the_keys_of_foreach_from(void **state)
{
    warp_db *db = *state;
    uint32_t firsts[] = {0, 7, WARP_SLOTS / 2, WARP_SLOTS};

    put_fe_keys(db, FOREACH_KEYS);
    for (size_t f = 0; f < sizeof(firsts) / sizeof(firsts[0]); f++) {
        walk *pairs = new_walk(db), *keys = new_walk(db);
        assert_ok(warp_foreach_from(db, firsts[f], visit, pairs));
        assert_ok(warp_foreach_keys_from(db, firsts[f], visit_key, keys));
        assert_false(pairs->wrong || keys->wrong);
        assert_int_equal(keys->calls, pairs->calls);
        assert_memory_equal(keys->visits, pairs->visits, sizeof(keys->visits));
        free(pairs);
        free(keys);
    }
    walk *w = new_walk(db);
    w->stop_after = 5;
    assert_int_equal(warp_foreach_keys_from(db, 0, visit_key, w), 42);
    assert_int_equal(w->calls, 5);
    free(w);
}

static void foreach_of_an_empty_store_calls_nothing(void **state)
{
    warp_db *db = *state;
    walk *w = new_walk(db);

    assert_ok(warp_foreach(db, visit, w));
    assert_int_equal(w->calls, 0);
    free(w);
}

/* ------------------------------------------------------------------------ */
/* Durability calls on an in-memory store                                    */
/* ------------------------------------------------------------------------ */

static void sync_of_an_in_memory_store_succeeds(void **state)
{
    warp_db *db = *state;

    put_str(db, "k", "v");
    assert_ok(warp_sync(db));
    assert_get_str(db, "k", "v");
}

static void checkpoint_of_an_in_memory_store_is_einval(void **state)
{
    warp_db *db = *state;

    put_str(db, "k", "v");
    assert_rc(warp_checkpoint(db), WARP_EINVAL);
    assert_get_str(db, "k", "v");
}

static void in_memory_store_recovered_nothing(void **state)
{
    warp_db *db = *state;
    warp_recovery rec, zero;
    warp_durability dur;

    memset(&rec, 0xff, sizeof(rec));
    memset(&zero, 0, sizeof(zero));
    assert_ok(warp_recovery_get(db, &rec));
    assert_memory_equal(&rec, &zero, sizeof(rec));
    put_str(db, "k", "v");
    assert_ok(warp_durability_get(db, &dur));
    assert_int_equal(dur.wal_bytes, 0);
    assert_int_equal(dur.checkpoints, 0);
}

/* ------------------------------------------------------------------------ */
/* Growth                                                                    */
/* ------------------------------------------------------------------------ */

#define MILLION 1000000u

/* Key i of the million-key test holds i % 16 bytes seeded by i. */
static void million_value(uint64_t i, uint8_t *val, size_t *vlen)
{
    *vlen = i % 16;
    fill_value(val, *vlen, i);
}

static void million_keys_survive_growth_and_half_deletion(void **state)
{
    warp_db *db = *state;
    uint64_t kbytes = 0, vbytes = 0;
    uint8_t val[16];
    char key[64];
    size_t klen, vlen;

    for (uint64_t i = 0; i < MILLION; i++) {
        klen = format_key(key, sizeof(key), "m", i);
        million_value(i, val, &vlen);
        assert_ok(warp_put(db, key, klen, val, vlen, NULL, NULL));
        kbytes += klen;
        vbytes += vlen;
    }
    assert_counts(db, MILLION, kbytes, vbytes);
    assert_true(stats_of(db).table_growths > 0);
    for (uint64_t i = 0; i < MILLION; i++) {
        klen = format_key(key, sizeof(key), "m", i);
        million_value(i, val, &vlen);
        assert_get_equals(db, key, klen, val, vlen);
    }
    for (uint64_t i = 0; i < MILLION; i += 2) {
        klen = format_key(key, sizeof(key), "m", i);
        million_value(i, val, &vlen);
        assert_ok(warp_delete(db, key, klen));
        kbytes -= klen;
        vbytes -= vlen;
    }
    assert_counts(db, MILLION / 2, kbytes, vbytes);
    for (uint64_t i = 0; i < MILLION; i++) {
        klen = format_key(key, sizeof(key), "m", i);
        million_value(i, val, &vlen);
        if (i % 2 == 0)
            assert_get_notfound(db, key, klen);
        else
            assert_get_equals(db, key, klen, val, vlen);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(empty_key_round_trips),
        STORE_TEST(empty_key_is_distinct_from_a_nul_byte_key),
        STORE_TEST(keys_and_values_with_nul_bytes_round_trip),
        STORE_TEST(value_of_16_kib_round_trips),
        STORE_TEST(value_of_1_mib_round_trips),
        STORE_TEST(zero_length_value_round_trips),
        STORE_TEST(overwrite_replaces_value),
        STORE_TEST(get_after_delete_returns_notfound),
        STORE_TEST(put_after_delete_stores_the_key_again),
        STORE_TEST(delete_of_missing_key_returns_notfound_and_changes_nothing),
        STORE_TEST(second_delete_of_a_key_returns_notfound),
        STORE_TEST(exists_follows_put_and_delete),
        STORE_TEST(get_with_small_buffer_returns_erange_and_needed_length),
        STORE_TEST(get_with_null_buffer_and_zero_cap_reports_length),
        STORE_TEST(get_alloc_returns_nul_terminated_copy),
        STORE_TEST(get_alloc_of_missing_key_returns_notfound_and_null),
        STORE_TEST(placement_of_put_get_and_locate_agree),
        STORE_TEST(keys_in_the_same_slot_share_a_shard),
        STORE_TEST(slot_depends_only_on_the_key),
        STORE_TEST(locate_does_not_create_the_key),
        cmocka_unit_test(class_of_follows_upstream_table),
        cmocka_unit_test(class_of_treats_out_of_range_hints_as_defaults),
        STORE_TEST(hints_are_stored_per_key_and_reported_by_put_and_get),
        STORE_TEST(put_without_options_stores_default_hints),
        STORE_TEST(later_put_overwrites_hints),
        STORE_TEST(locate_reports_default_hints_whatever_is_stored),
        cmocka_unit_test(hint_names_parse_back_to_their_values),
        cmocka_unit_test(hint_names_out_of_range_are_question_marks),
        cmocka_unit_test(hint_parse_rejects_unknown_names_and_leaves_output),
        STORE_TEST(empty_store_has_zero_counts),
        STORE_TEST(stats_count_keys_and_bytes_exactly),
        STORE_TEST(shard_stats_add_up_to_store_stats),
        OWN_STORE_TEST(one_shard_holds_every_key),
        OWN_STORE_TEST(seven_shards_are_all_used),
        STORE_TEST(foreach_visits_every_pair_once_slot_by_slot),
        STORE_TEST(foreach_stops_when_the_callback_returns_nonzero),
        STORE_TEST(foreach_from_a_slot_visits_that_slot_and_the_ones_after),
        STORE_TEST(foreach_keys_from_visits_the_keys_of_foreach_from),
        STORE_TEST(foreach_of_an_empty_store_calls_nothing),
        STORE_TEST(sync_of_an_in_memory_store_succeeds),
        STORE_TEST(checkpoint_of_an_in_memory_store_is_einval),
        STORE_TEST(in_memory_store_recovered_nothing),
        STORE_TEST(million_keys_survive_growth_and_half_deletion),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
