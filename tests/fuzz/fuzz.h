/*
 * Shared by the libFuzzer targets: CHECK aborts (a crash libFuzzer
 * reports and saves) when a property of the code under test fails, so a
 * target finds wrong answers as well as memory errors.
 */
#ifndef OMBUD_FUZZ_H
#define OMBUD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
