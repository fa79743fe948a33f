/*
 * test-bytes.c - bytes.h: the little-endian accessors of the on-disk
 * formats, and bytes_eq(), the inline key comparison of every lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bytes.h"

#define MAX_LEN 70

static void little_endian_round_trip(void **state)
{
    unsigned char b[8];

    (void)state;
    wr32(b, 0x11223344u);
    assert_int_equal(b[0], 0x44);
    assert_int_equal(b[3], 0x11);
    assert_int_equal(rd32(b), 0x11223344u);
    wr64(b, 0x0102030405060708ull);
    assert_int_equal(b[0], 0x08);
    assert_int_equal(b[7], 0x01);
    assert_true(rd64(b) == 0x0102030405060708ull);
}

/* Each operand sits at the very end of its own allocation, so a read past
 * its n bytes is a heap overflow under AddressSanitizer. */
static unsigned char *tail_copy(const unsigned char *src, size_t n)
{
    unsigned char *p = malloc(n ? n : 1);

    assert_non_null(p);
    if (n)
        memcpy(p, src, n);
    return p;
}

static void agrees_with_memcmp_on_every_length_and_byte(void **state)
{
    unsigned char src[MAX_LEN];
    uint64_t x = 0x9E3779B97F4A7C15ull;

    (void)state;
    for (size_t i = 0; i < sizeof(src); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        src[i] = (unsigned char)x;
    }
    for (size_t n = 0; n <= MAX_LEN; n++) {
        unsigned char *a = tail_copy(src, n), *b = tail_copy(src, n);
        assert_true(bytes_eq(a, b, n));
        for (size_t i = 0; i < n; i++) {
            for (unsigned bit = 0; bit < 8; bit++) {
                b[i] ^= (unsigned char)(1u << bit);
                assert_false(bytes_eq(a, b, n));
                assert_false(bytes_eq(b, a, n));
                b[i] ^= (unsigned char)(1u << bit);
            }
        }
        assert_true(bytes_eq(a, b, n));
        free(a);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(little_endian_round_trip),
        cmocka_unit_test(agrees_with_memcmp_on_every_length_and_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
