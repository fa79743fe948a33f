/*
 * fuzz-options.c - the engine's option-string parser (src/options.c:
 * warp_options_set and warp_options_get).
 *
 * Input: the value string (up to the first NUL; after it, if present, the
 * option name to try; without it, every option name in turn).
 * Invariants checked, per name:
 *   - warp_options_set returns WARP_OK, WARP_EINVAL or WARP_ENOOPT;
 *   - on error the options are unchanged (byte for byte);
 *   - on success the value reads back with warp_options_get, and setting
 *     what was read back gives the same options (a round trip).
 */
#include <string.h>

#include "fuzz.h"
#include "warp.h"

static void try_option(const char *name, const char *value)
{
    warp_options a, before, b;
    char buf[4096], buf2[4096];
    int rc;

    memset(&a, 0, sizeof a);
    warp_options_init(&a);
    memcpy(&before, &a, sizeof a);
    rc = warp_options_set(&a, name, value);
    FUZZ_CHECK(rc == WARP_OK || rc == WARP_EINVAL || rc == WARP_ENOOPT);
    if (rc != WARP_OK) {
        FUZZ_CHECK(memcmp(&a, &before, sizeof a) == 0);
        return;
    }
    FUZZ_CHECK(warp_options_get(&a, name, buf, sizeof buf) == WARP_OK);
    memset(&b, 0, sizeof b);
    warp_options_init(&b);
    FUZZ_CHECK(warp_options_set(&b, name, buf) == WARP_OK);
    FUZZ_CHECK(warp_options_get(&b, name, buf2, sizeof buf2) == WARP_OK);
    FUZZ_CHECK(strcmp(buf, buf2) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    size_t vlen;

    FUZZ_CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    vlen = strlen(s);
    if (vlen < size) {
        try_option(s + vlen + 1, s);
    } else {
        for (const char *const *n = warp_option_names(); *n; n++)
            try_option(*n, s);
    }
    free(s);
    return 0;
}
