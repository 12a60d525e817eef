/*
 * fuzz_seal.c: the seal codec (lib/store/seal.c) over any bytes. Anyone can
 * put "~s1:..." into a bounce diagnostic or a From header that the store
 * later opens, so opening must never read out of bounds or accept what was
 * not sealed with the key. Checked on each input: sealing a text and opening
 * it again gives the input back, byte for byte, and the sealed text holds no
 * address left to seal; the input as a sealed value either does not open or
 * opens to a value that seals back to exactly the input (the synthetic IV is
 * checked); lenient opening of the input leaves text that is not sealed as it
 * was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SEAL_IN_MAX 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct homing_seal *k;
    static const uint8_t key[HOMING_SEAL_KEY_LEN] = "fuzz_seal: a fixed key for fuzz";
    if (!k && homing_seal_new(key, &k) < 0) abort();
    if (size > FUZZ_SEAL_IN_MAX) return 0;
    const char *in = (const char *)data;
    char *sealed, *back;
    size_t sl, bl;
    if (homing_seal_text(k, in, size, &sealed, &sl) != 0) abort();
    if (homing_seal_text_pending(sealed, sl)) abort();
    if (homing_seal_open_text(k, sealed, sl, 0, &back, &bl) != 0) abort();
    /* a "~s1:" the input carried may open too (it may be a real one): only
     * input without it must come back byte for byte */
    if (!memmem(in, size, HOMING_SEAL_PREFIX, HOMING_SEAL_PREFIX_LEN) &&
        (bl != size || memcmp(back, in, size) != 0))
        abort();
    free(back);
    free(sealed);
    char plain[HOMING_SEAL_VALUE_MAX + 1], again[2 * FUZZ_SEAL_IN_MAX];
    int n = homing_seal_open(k, in, size, plain, sizeof plain);
    if (n >= 0) {
        int m = homing_seal_value(k, plain, (size_t)n, again, sizeof again);
        int c = homing_seal_client(k, plain, again + FUZZ_SEAL_IN_MAX, FUZZ_SEAL_IN_MAX);
        int same = (m == (int)size && memcmp(again, in, size) == 0) ||
                   (c == (int)size && memcmp(again + FUZZ_SEAL_IN_MAX, in, size) == 0);
        if (!same) abort();
    }
    if (homing_seal_open_text(k, in, size, 0, &back, &bl) == 0) {
        if (!memmem(in, size, HOMING_SEAL_PREFIX, HOMING_SEAL_PREFIX_LEN) &&
            (bl != size || memcmp(back, in, size) != 0))
            abort();
        free(back);
    }
    return 0;
}
