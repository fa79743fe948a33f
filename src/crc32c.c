/* crc32c.c - CRC-32C, in hardware where the CPU has it. */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u /* Castagnoli, reflected */

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc_soft(uint32_t crc, const unsigned char *p, size_t n)
{
    pthread_once(&table_once, table_init);
    while (n--)
        crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc_hard(uint32_t crc, const unsigned char *p, size_t n)
{
    uint64_t c = crc;

    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
    }
    crc = (uint32_t)c;
    while (n--)
        crc = __builtin_ia32_crc32qi(crc, *p++);
    return crc;
}

static int have_sse42(void)
{
    static int known = -1; /* racing threads store the same value */
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);

    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("sse4.2") ? 1 : 0;
        __atomic_store_n(&known, v, __ATOMIC_RELAXED);
    }
    return v;
}
#endif

uint32_t crc32c_portable(const void *p, size_t n)
{
    return ~crc_soft(~0u, p, n);
}

uint32_t crc32c_update(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
    if (have_sse42())
        return ~crc_hard(~crc, p, n);
#endif
    return ~crc_soft(~crc, p, n);
}

uint32_t crc32c(const void *p, size_t n)
{
    return crc32c_update(0, p, n);
}
