/* Waking the SLA worker for an earlier moment; see include/ombud/service/sla_wake.h. */
#define _GNU_SOURCE /* pipe2 */
#include "ombud/service/sla_wake.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int fds[2] = {-1, -1};
static atomic_llong plan_us;

enum ombud_rc ombud_sla_wake_open(struct ombud_err *err)
{
    int p[2];
    /* Non-blocking both ways: a full pipe already wakes the worker, so a
     * writer never waits on it, and drain reads until it is empty. */
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
        return ombud_err_internal(err, "cannot create the SLA worker's wake pipe");
    atomic_store(&plan_us, 0);
    atomic_store(&fds[0], p[0]);
    atomic_store(&fds[1], p[1]);
    return OMBUD_OK;
}

void ombud_sla_wake_close(void)
{
    int r = atomic_exchange(&fds[0], -1), w = atomic_exchange(&fds[1], -1);
    if (r >= 0)
        close(r);
    if (w >= 0)
        close(w);
}

int ombud_sla_wake_fd(void)
{
    return atomic_load(&fds[0]);
}

void ombud_sla_wake_drain(void)
{
    char buf[64];
    int fd = atomic_load(&fds[0]);
    while (fd >= 0 && read(fd, buf, sizeof buf) > 0)
        ;
}

void ombud_sla_wake_plan(int64_t at_us)
{
    atomic_store(&plan_us, at_us);
}

void ombud_sla_wake_now(void)
{
    int fd = atomic_load(&fds[1]);
    if (fd >= 0) {
        ssize_t w = write(fd, "x", 1);
        (void)w; /* full: the worker is woken already */
    }
}

void ombud_sla_wake_moment(int64_t moment_s)
{
    long long at = moment_s * 1000000, plan = atomic_load(&plan_us);
    /* Only the write that moves the plan to 0 writes the byte. */
    while (at < plan)
        if (atomic_compare_exchange_weak(&plan_us, &plan, 0)) {
            ombud_sla_wake_now();
            return;
        }
}
