/*
 * test-options.c - warp_options: the documented defaults, setting and
 * formatting by name, and warp_open's validation of the options it gets.
 */
#include "testutil.h"

/* The documented options, in documentation order, each with a valid value
 * that differs from its default and what that value sets. */
static const struct {
    const char *name;
    const char *value;
    uint64_t expect; /* the field's value after setting `value` */
} documented[] = {
    {"shards", "4", 4},
    {"max_key_size", "100", 100},
    {"max_value_size", "1000", 1000},
    {"huge_pages", "no", 0},
    {"fsync", "always", WARP_FSYNC_ALWAYS},
    {"recovery", "salvage", WARP_RECOVERY_SALVAGE},
    {"checkpoint_interval", "1000", 1000},
    {"checkpoint_wal_bytes", "0", 0},
    {"wal_segment_size", "65536", 65536},
    {"physics", "full", WARP_PHYSICS_FULL},
    {"physics_cpu_budget", "0.5", 500}, /* doubles read as thousandths */
    {"physics_update_interval", "250", 250},
    {"entropy_monitoring_interval", "2000", 2000},
    {"temporal_half_life", "60000", 60000},
    {"entropy_threshold", "0.75", 750},
    {"rebalance_cooldown", "0", 0},
    {"colocation", "tags", WARP_COLOCATE_TAGS},
    {"entanglement_rules", "a:*->b:*", 8}, /* strings read as lengths */
    {"entanglement_learning", "yes", 1},
    {"maxmemory", "64m", 64ull << 20},
    {"eviction", "lru", WARP_EVICT_LRU},
    {"demote_after", "1000", 1000},
    {"deep_after", "0", 0},
    {"deep_segment_size", "1m", 1ull << 20},
};

/* The field called `name`, widened to 64 bits. */
static uint64_t field(const warp_options *opts, const char *name)
{
    if (strcmp(name, "shards") == 0)
        return opts->shards;
    if (strcmp(name, "max_key_size") == 0)
        return opts->max_key_size;
    if (strcmp(name, "max_value_size") == 0)
        return opts->max_value_size;
    if (strcmp(name, "huge_pages") == 0)
        return opts->huge_pages;
    if (strcmp(name, "fsync") == 0)
        return (uint64_t)opts->fsync;
    if (strcmp(name, "recovery") == 0)
        return (uint64_t)opts->recovery;
    if (strcmp(name, "checkpoint_interval") == 0)
        return opts->checkpoint_interval;
    if (strcmp(name, "checkpoint_wal_bytes") == 0)
        return opts->checkpoint_wal_bytes;
    if (strcmp(name, "wal_segment_size") == 0)
        return opts->wal_segment_size;
    if (strcmp(name, "physics") == 0)
        return (uint64_t)opts->physics;
    if (strcmp(name, "physics_cpu_budget") == 0)
        return (uint64_t)(opts->physics_cpu_budget * 1000 + 0.5);
    if (strcmp(name, "physics_update_interval") == 0)
        return opts->physics_update_interval;
    if (strcmp(name, "entropy_monitoring_interval") == 0)
        return opts->entropy_monitoring_interval;
    if (strcmp(name, "temporal_half_life") == 0)
        return opts->temporal_half_life;
    if (strcmp(name, "entropy_threshold") == 0)
        return (uint64_t)(opts->entropy_threshold * 1000 + 0.5);
    if (strcmp(name, "rebalance_cooldown") == 0)
        return opts->rebalance_cooldown;
    if (strcmp(name, "colocation") == 0)
        return (uint64_t)opts->colocation;
    if (strcmp(name, "entanglement_rules") == 0)
        return strlen(opts->entanglement_rules);
    if (strcmp(name, "entanglement_learning") == 0)
        return opts->entanglement_learning;
    if (strcmp(name, "maxmemory") == 0)
        return opts->maxmemory;
    if (strcmp(name, "eviction") == 0)
        return (uint64_t)opts->eviction;
    if (strcmp(name, "demote_after") == 0)
        return opts->demote_after;
    if (strcmp(name, "deep_after") == 0)
        return opts->deep_after;
    if (strcmp(name, "deep_segment_size") == 0)
        return opts->deep_segment_size;
    fail_msg("no field for option %s", name);
    return 0;
}

/* Assert that setting `name` to `value` succeeds and sets `expect`. */
static void assert_set(const char *name, const char *value, uint64_t expect)
{
    warp_options opts;

    warp_options_init(&opts);
    assert_ok(warp_options_set(&opts, name, value));
    if (field(&opts, name) != expect)
        fail_msg("%s=\"%s\" set %llu, expected %llu", name, value,
                 (unsigned long long)field(&opts, name),
                 (unsigned long long)expect);
}

/* Assert that setting `name` to `value` returns `want` and leaves every
 * byte of the options as it was. */
static void assert_set_rejected(const char *name, const char *value, int want)
{
    warp_options opts, before;

    warp_options_init(&opts);
    opts.shards = 3; /* not a default, so a reset would show */
    memcpy(&before, &opts, sizeof(opts));
    if (warp_options_set(&opts, name, value) != want)
        fail_msg("%s=\"%s\" did not return %s", name, value ? value : "NULL",
                 warp_strerror(want));
    assert_memory_equal(&opts, &before, sizeof(opts));
}

/* ------------------------------------------------------------------------ */
/* Defaults and names                                                        */
/* ------------------------------------------------------------------------ */

static void defaults_match_documented_table(void **state)
{
    warp_options opts;

    (void)state;
    memset(&opts, 0xAB, sizeof(opts));
    warp_options_init(&opts);
    assert_int_equal(opts.shards, 16);
    assert_int_equal(opts.max_key_size, 65536);
    assert_int_equal(opts.max_value_size, 67108864);
    assert_true(opts.huge_pages);
    assert_int_equal(opts.fsync, WARP_FSYNC_EVERYSEC);
    assert_int_equal(opts.recovery, WARP_RECOVERY_STRICT);
    assert_int_equal(opts.checkpoint_interval, 300000);
    assert_int_equal(opts.checkpoint_wal_bytes, 1073741824);
    assert_int_equal(opts.wal_segment_size, 8388608);
    assert_int_equal(opts.physics, WARP_PHYSICS_ADAPTIVE);
    assert_true(opts.physics_cpu_budget == 0.05);
    assert_int_equal(opts.physics_update_interval, 1000);
    assert_int_equal(opts.entropy_monitoring_interval, 5000);
    assert_int_equal(opts.temporal_half_life, 3600000);
    assert_true(opts.entropy_threshold == 0.9);
    assert_int_equal(opts.rebalance_cooldown, 10000);
    assert_int_equal(opts.colocation, WARP_COLOCATE_TAGS_RULES);
    assert_non_null(strstr(opts.entanglement_rules,
                           "user:*->profile:*,settings:*,sessions:*"));
    assert_non_null(strstr(opts.entanglement_rules, "article:*->"));
}

static void default_options_open_a_store_like_null_options(void **state)
{
    warp_options opts;
    warp_db *db;

    (void)state;
    warp_options_init(&opts);
    db = open_store(&opts);
    assert_int_equal(warp_shard_count(db), 16);
    warp_close(db);
    db = open_store(NULL);
    assert_int_equal(warp_shard_count(db), 16);
    warp_close(db);
}

static void option_names_are_the_documented_ones_in_order(void **state)
{
    const char *const *names = warp_option_names();
    size_t n = 0;

    (void)state;
    assert_non_null(names);
    while (names[n] != NULL) {
        assert_true(n < ARRAY_SIZE(documented));
        assert_string_equal(names[n], documented[n].name);
        n++;
    }
    assert_int_equal(n, ARRAY_SIZE(documented));
}

/* ------------------------------------------------------------------------ */
/* Setting by name                                                           */
/* ------------------------------------------------------------------------ */

static void set_by_name_changes_only_that_option(void **state)
{
    const char *const *names = warp_option_names();

    (void)state;
    for (size_t i = 0; names[i] != NULL; i++) {
        warp_options dflt, opts;

        assert_true(i < ARRAY_SIZE(documented));
        assert_string_equal(names[i], documented[i].name);
        warp_options_init(&dflt);
        warp_options_init(&opts);
        assert_ok(warp_options_set(&opts, names[i], documented[i].value));
        assert_int_equal(field(&opts, names[i]), documented[i].expect);
        /* Every other option keeps its default. */
        for (size_t j = 0; names[j] != NULL; j++) {
            if (j != i)
                assert_int_equal(field(&opts, names[j]),
                                 field(&dflt, names[j]));
        }
        assert_ptr_equal(opts.allocator.alloc, dflt.allocator.alloc);
        assert_ptr_equal(opts.allocator.release, dflt.allocator.release);
        assert_ptr_equal(opts.allocator.ctx, dflt.allocator.ctx);
    }
}

static void integers_accept_their_whole_range(void **state)
{
    (void)state;
    assert_set("shards", "1", 1);
    assert_set("shards", "16384", 16384);
    assert_set("max_key_size", "0", 0);
    assert_set("max_key_size", "16777215", 16777215);
    assert_set("max_value_size", "0", 0);
    assert_set("max_value_size", "4294967295", 4294967295u);
    assert_set("checkpoint_interval", "0", 0);
    assert_set("checkpoint_wal_bytes", "0", 0);
    assert_set("wal_segment_size", "65536", 65536);
    assert_set("wal_segment_size", "1073741824", 1073741824);
}

static void size_suffixes_scale_by_powers_of_1024(void **state)
{
    (void)state;
    assert_set("max_value_size", "64m", 64ull << 20);
    assert_set("max_value_size", "1k", 1024);
    assert_set("max_value_size", "3g", 3ull << 30);
    assert_set("max_value_size", "0k", 0);
    assert_set("max_key_size", "1k", 1024);
    assert_set("max_key_size", "15m", 15ull << 20);
    assert_set("checkpoint_wal_bytes", "1g", 1ull << 30);
    assert_set("wal_segment_size", "64k", 64 << 10);
    assert_set("wal_segment_size", "1g", 1ull << 30);
}

static void enumerations_accept_their_documented_names(void **state)
{
    (void)state;
    assert_set("fsync", "always", WARP_FSYNC_ALWAYS);
    assert_set("fsync", "everysec", WARP_FSYNC_EVERYSEC);
    assert_set("fsync", "never", WARP_FSYNC_NEVER);
    assert_set("recovery", "strict", WARP_RECOVERY_STRICT);
    assert_set("recovery", "salvage", WARP_RECOVERY_SALVAGE);
    assert_set("eviction", "none", WARP_EVICT_NONE);
    assert_set("eviction", "lru", WARP_EVICT_LRU);
    assert_set("eviction", "lfu", WARP_EVICT_LFU);
}

static void booleans_accept_every_documented_spelling(void **state)
{
    static const char *truths[] = {"yes", "true", "on", "1"};
    static const char *falsehoods[] = {"no", "false", "off", "0"};

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(truths); i++) {
        warp_options opts;

        warp_options_init(&opts);
        opts.huge_pages = false;
        assert_ok(warp_options_set(&opts, "huge_pages", truths[i]));
        assert_true(opts.huge_pages);
        assert_ok(warp_options_set(&opts, "huge_pages", falsehoods[i]));
        assert_false(opts.huge_pages);
    }
}

static void unknown_name_returns_enoopt_and_leaves_opts_unchanged(void **state)
{
    (void)state;
    assert_set_rejected("no_such_option", "1", WARP_ENOOPT);
    assert_set_rejected("shard", "4", WARP_ENOOPT);
    assert_set_rejected("shards ", "4", WARP_ENOOPT);
    assert_set_rejected("", "4", WARP_ENOOPT);
    /* The allocator is not settable by name. */
    assert_set_rejected("allocator", "1", WARP_ENOOPT);
}

static void invalid_values_return_einval_and_leave_opts_unchanged(void **state)
{
    static const struct {
        const char *name, *value;
    } invalid[] = {
        {"shards", "abc"},
        {"shards", "-1"},
        {"shards", "0"},
        {"shards", "16385"},
        {"shards", "4294967297"},
        {"shards", "99999999999999999999999"},
        {"shards", ""},
        {"shards", "4x"},
        {"shards", "1.5"},
        {"max_key_size", "16777216"},
        {"max_key_size", "16m"},
        {"max_key_size", "-1"},
        {"max_key_size", "abc"},
        {"max_key_size", ""},
        {"max_value_size", "4294967296"},
        {"max_value_size", "4g"},
        {"max_value_size", "18446744073709551616"},
        {"max_value_size", "99999999999999999999999"},
        {"max_value_size", "17179869184g"},
        {"max_value_size", "-1"},
        {"max_value_size", "k"},
        {"max_value_size", "64q"},
        {"max_value_size", ""},
        {"huge_pages", "maybe"},
        {"huge_pages", "2"},
        {"huge_pages", "yess"},
        {"huge_pages", ""},
        {"fsync", "sometimes"},
        {"fsync", "1"},
        {"fsync", ""},
        {"recovery", "lenient"},
        {"recovery", ""},
        {"checkpoint_interval", "-1"},
        {"checkpoint_interval", "abc"},
        {"checkpoint_interval", "18446744073709551616"},
        {"checkpoint_wal_bytes", "-1"},
        {"checkpoint_wal_bytes", "99999999999999999999g"},
        {"wal_segment_size", "65535"},
        {"wal_segment_size", "1073741825"},
        {"wal_segment_size", "2g"},
        {"wal_segment_size", "0"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(invalid); i++)
        assert_set_rejected(invalid[i].name, invalid[i].value, WARP_EINVAL);
}

static void set_with_null_arguments_returns_einval(void **state)
{
    warp_options opts, before;

    (void)state;
    warp_options_init(&opts);
    memcpy(&before, &opts, sizeof(opts));
    assert_rc(warp_options_set(NULL, "shards", "4"), WARP_EINVAL);
    assert_rc(warp_options_set(&opts, NULL, "4"), WARP_EINVAL);
    assert_rc(warp_options_set(&opts, "shards", NULL), WARP_EINVAL);
    assert_memory_equal(&opts, &before, sizeof(opts));
}

/* ------------------------------------------------------------------------ */
/* Formatting by name                                                        */
/* ------------------------------------------------------------------------ */

/* Assert that formatting `name` from `opts` and setting the result on fresh
 * defaults reproduces `opts` exactly. */
static void assert_get_round_trips(const warp_options *opts, const char *name)
{
    warp_options copy;
    char buf[WARP_RULES_MAX];

    warp_options_init(&copy);
    assert_ok(warp_options_get(opts, name, buf, sizeof(buf)));
    assert_true(strlen(buf) > 0);
    assert_ok(warp_options_set(&copy, name, buf));
    assert_int_equal(field(&copy, name), field(opts, name));
}

static void get_formats_the_defaults(void **state)
{
    warp_options opts;
    char buf[64];

    (void)state;
    warp_options_init(&opts);
    assert_ok(warp_options_get(&opts, "shards", buf, sizeof(buf)));
    assert_string_equal(buf, "16");
    for (const char *const *name = warp_option_names(); *name; name++)
        assert_get_round_trips(&opts, *name);
}

static void get_round_trips_every_value(void **state)
{
    static const struct {
        const char *name, *value;
    } values[] = {
        {"shards", "1"},
        {"shards", "7"},
        {"shards", "16384"},
        {"max_key_size", "0"},
        {"max_key_size", "1k"},
        {"max_key_size", "16777215"},
        {"max_value_size", "0"},
        {"max_value_size", "1000"},
        {"max_value_size", "64m"},
        {"max_value_size", "4294967295"},
        {"huge_pages", "yes"},
        {"huge_pages", "off"},
        {"fsync", "always"},
        {"fsync", "never"},
        {"recovery", "salvage"},
        {"checkpoint_interval", "0"},
        {"checkpoint_interval", "18446744073709551615"},
        {"checkpoint_wal_bytes", "1g"},
        {"wal_segment_size", "64k"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
        warp_options opts;

        warp_options_init(&opts);
        assert_ok(warp_options_set(&opts, values[i].name, values[i].value));
        assert_get_round_trips(&opts, values[i].name);
    }
}

static void get_with_small_buffer_returns_erange(void **state)
{
    warp_options opts;
    char buf[8];

    (void)state;
    warp_options_init(&opts);
    assert_rc(warp_options_get(&opts, "shards", buf, 2), WARP_ERANGE);
    assert_rc(warp_options_get(&opts, "shards", buf, 0), WARP_ERANGE);
    assert_ok(warp_options_get(&opts, "shards", buf, 3));
    assert_string_equal(buf, "16");
}

static void get_of_unknown_name_returns_enoopt(void **state)
{
    warp_options opts;
    char buf[64];

    (void)state;
    warp_options_init(&opts);
    assert_rc(warp_options_get(&opts, "no_such_option", buf, sizeof(buf)),
              WARP_ENOOPT);
    assert_rc(warp_options_get(&opts, "allocator", buf, sizeof(buf)),
              WARP_ENOOPT);
}

static void get_with_null_arguments_returns_einval(void **state)
{
    warp_options opts;
    char buf[64];

    (void)state;
    warp_options_init(&opts);
    assert_rc(warp_options_get(NULL, "shards", buf, sizeof(buf)), WARP_EINVAL);
    assert_rc(warp_options_get(&opts, NULL, buf, sizeof(buf)), WARP_EINVAL);
    assert_rc(warp_options_get(&opts, "shards", NULL, sizeof(buf)),
              WARP_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Opening with options                                                      */
/* ------------------------------------------------------------------------ */

/* Assert that warp_open rejects `opts` with WARP_EINVAL and sets *out NULL. */
static void assert_open_rejects(const warp_options *opts)
{
    warp_db *db = (warp_db *)&db;

    assert_rc(warp_open(NULL, opts, &db), WARP_EINVAL);
    assert_null(db);
}

static void open_with_out_of_range_options_fails_with_einval(void **state)
{
    warp_options opts;

    (void)state;
    warp_options_init(&opts);
    opts.shards = 0;
    assert_open_rejects(&opts);
    warp_options_init(&opts);
    opts.shards = WARP_SLOTS + 1;
    assert_open_rejects(&opts);
    warp_options_init(&opts);
    opts.max_key_size = 16777216;
    assert_open_rejects(&opts);
    warp_options_init(&opts);
    opts.max_value_size = 4294967296ull;
    assert_open_rejects(&opts);
    warp_options_init(&opts);
    opts.fsync = (warp_fsync)3;
    assert_open_rejects(&opts);
    warp_options_init(&opts);
    opts.recovery = (warp_recovery_mode)2;
    assert_open_rejects(&opts);
    warp_options_init(&opts);
    opts.wal_segment_size = 65535;
    assert_open_rejects(&opts);
}

static void open_with_null_out_fails_with_einval(void **state)
{
    (void)state;
    assert_rc(warp_open(NULL, NULL, NULL), WARP_EINVAL);
}

static void open_accepts_the_extremes_of_shards(void **state)
{
    warp_db *db;

    (void)state;
    db = open_store_with_shards(1);
    assert_int_equal(warp_shard_count(db), 1);
    warp_close(db);
    db = open_store_with_shards(WARP_SLOTS);
    assert_int_equal(warp_shard_count(db), WARP_SLOTS);
    put_str(db, "k", "v");
    assert_get_str(db, "k", "v");
    warp_close(db);
}

static void options_are_copied_at_open(void **state)
{
    warp_options opts;
    warp_db *db;
    char key[9] = "12345678";

    warp_options_init(&opts);
    opts.shards = 4;
    opts.max_key_size = 8;
    db = own_store(state, &opts);
    /* Changing the caller's struct after open changes nothing. */
    opts.shards = 9;
    opts.max_key_size = 2;
    assert_int_equal(warp_shard_count(db), 4);
    assert_ok(warp_put(db, key, 8, "v", 1, NULL, NULL));
    assert_rc(warp_put(db, "123456789", 9, "v", 1, NULL, NULL), WARP_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_match_documented_table),
        cmocka_unit_test(default_options_open_a_store_like_null_options),
        cmocka_unit_test(option_names_are_the_documented_ones_in_order),
        cmocka_unit_test(set_by_name_changes_only_that_option),
        cmocka_unit_test(integers_accept_their_whole_range),
        cmocka_unit_test(size_suffixes_scale_by_powers_of_1024),
        cmocka_unit_test(booleans_accept_every_documented_spelling),
        cmocka_unit_test(enumerations_accept_their_documented_names),
        cmocka_unit_test(unknown_name_returns_enoopt_and_leaves_opts_unchanged),
        cmocka_unit_test(invalid_values_return_einval_and_leave_opts_unchanged),
        cmocka_unit_test(set_with_null_arguments_returns_einval),
        cmocka_unit_test(get_formats_the_defaults),
        cmocka_unit_test(get_round_trips_every_value),
        cmocka_unit_test(get_with_small_buffer_returns_erange),
        cmocka_unit_test(get_of_unknown_name_returns_enoopt),
        cmocka_unit_test(get_with_null_arguments_returns_einval),
        cmocka_unit_test(open_with_out_of_range_options_fails_with_einval),
        cmocka_unit_test(open_with_null_out_fails_with_einval),
        cmocka_unit_test(open_accepts_the_extremes_of_shards),
        OWN_STORE_TEST(options_are_copied_at_open),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
