/*
 * test-crc32c.c - the WAL's checksum: the standard check value, and the
 * hardware path agreeing with the table path on every length and offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"

static void check_value_of_123456789_is_e3069283(void **state)
{
    (void)state;
    assert_int_equal(crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c_portable("123456789", 9), 0xE3069283u);
}

static void empty_input_gives_zero(void **state)
{
    (void)state;
    assert_int_equal(crc32c("", 0), 0);
}

static void hardware_and_table_agree_on_every_length_and_alignment(void **state)
{
    unsigned char buf[600];
    uint64_t x = 0x9E3779B97F4A7C15ull;

    (void)state;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof(buf); n++)
            assert_int_equal(crc32c(buf + off, n),
                             crc32c_portable(buf + off, n));
}

static void update_over_pieces_equals_the_whole(void **state)
{
    const char *text = "the quick brown fox jumps over the lazy dog";
    size_t n = strlen(text);

    (void)state;
    for (size_t cut = 0; cut <= n; cut++)
        assert_int_equal(crc32c_update(crc32c(text, cut), text + cut, n - cut),
                         crc32c(text, n));
    assert_int_equal(crc32c_update(0, NULL, 0), 0);
}

static void a_flipped_bit_changes_the_checksum(void **state)
{
    unsigned char buf[136] = {0};
    uint32_t clean = crc32c(buf, sizeof(buf));

    (void)state;
    for (size_t bit = 0; bit < sizeof(buf) * 8; bit++) {
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_int_not_equal(crc32c(buf, sizeof(buf)), clean);
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_value_of_123456789_is_e3069283),
        cmocka_unit_test(empty_input_gives_zero),
        cmocka_unit_test(
            hardware_and_table_agree_on_every_length_and_alignment),
        cmocka_unit_test(update_over_pieces_equals_the_whole),
        cmocka_unit_test(a_flipped_bit_changes_the_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
