/*
 * Test clock (OMBUD_TEST_HOOKS builds only); see ombud/test_clock.h.
 *
 * DESIGN: the offset lives in a small file that the test maps too, so a
 * test moves the clock of every server it started at once (several
 * processes may share one database) without a route in the HTTP contract.
 * Each process maps the file once, read-only, and reads the offset with
 * an atomic load. After moving it, the test wakes the SLA workers with
 * NOTIFY ombud_sla, which they LISTEN on anyway, so they recompute the
 * next moment at the new time. Without OMBUD_TEST_CLOCK_FILE the offset
 * is 0 and the clock is the wall clock.
 */
#include "ombud/test_clock.h"

#ifdef OMBUD_TEST_HOOKS

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const int64_t *offset_us; /* the mapped file, or NULL */

static void map_file(void)
{
    const char *path = getenv("OMBUD_TEST_CLOCK_FILE");
    if (!path || !*path)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof *offset_us) {
        close(fd); /* too short to map: reading it would fault */
        return;
    }
    void *p = mmap(NULL, sizeof *offset_us, PROT_READ, MAP_SHARED, fd, 0);
    close(fd); /* the mapping stays */
    if (p != MAP_FAILED)
        offset_us = p;
}

int64_t ombud_test_clock_offset_us(void)
{
    pthread_once(&once, map_file);
    return offset_us ? __atomic_load_n(offset_us, __ATOMIC_ACQUIRE) : 0;
}

#else
/* ISO C forbids an empty translation unit. */
typedef int ombud_test_clock_unused;
#endif
