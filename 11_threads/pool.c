/*
 * 11_threads/pool.c — the worker pool of pool.h.
 *
 * What evthread_use_pthreads() (libevent_pthreads) does: it gives libevent
 * pthread mutexes and condition variables, so that every event base created
 * afterwards has a lock, taken by each call into it (event_add, event_del,
 * event_active, event_base_loopexit ...), and a way for another thread to
 * wake its loop out of epoll_wait (an internal eventfd or pipe). Without it,
 * event_active from a pool thread would change the base's active queue
 * while the loop thread reads it: a data race, which ThreadSanitizer reports
 * (exercise 11.3). threaded_echo and reuseport_echo need none of this: no
 * base there is touched by a thread other than its own.
 *
 * Watch for: the pool's own queues have their own mutex; the base's lock
 * only covers the base.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "pool.h"

/* A deliberate cost: ROUNDS rounds of a 64-bit mix (splitmix64's). */
static uint64_t slow_hash(long rounds)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (long i = 0; i < rounds; i++) {
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9u;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBu;
        x ^= x >> 31;
        x += (uint64_t)i;
    }
    return x;
}

void job_run(struct job *job)
{
    if (job->kind == JOB_HASH) {
        snprintf(job->reply, sizeof job->reply, "HASH %ld %016llx\n", job->arg,
                 (unsigned long long)slow_hash(job->arg));
    } else {
        struct timespec ts = {job->arg / 1000, (job->arg % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0) {
        }
        snprintf(job->reply, sizeof job->reply, "SLEPT %ld\n", job->arg);
    }
}

/* region: pool_thread */
static void *pool_thread(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stopping && STAILQ_EMPTY(&p->todo))
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stopping)
            break;
        struct job *job = STAILQ_FIRST(&p->todo);
        STAILQ_REMOVE_HEAD(&p->todo, next);
        pthread_mutex_unlock(&p->lock);

        job_run(job); /* slow and blocking, and no loop waits for it */

        pthread_mutex_lock(&p->lock);
        STAILQ_INSERT_TAIL(&p->done, job, next);
        /* Wake the loop thread: safe across threads after evthread_use_pthreads. */
        event_active(p->done_event, EV_READ, 0);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}
/* endregion */

int pool_start(struct pool *p, struct event_base *base, long n, event_callback_fn on_done,
               void *arg)
{
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    STAILQ_INIT(&p->todo);
    STAILQ_INIT(&p->done);
    p->initialized = 1;
    /* No fd, never added: it runs only when a pool thread activates it. */
    p->done_event = event_new(base, -1, 0, on_done, arg);
    p->threads = calloc((size_t)n, sizeof *p->threads);
    if (!p->done_event || !p->threads) {
        warnx_msg("out of memory for the pool");
        return -1;
    }
    for (; p->n_started < n; p->n_started++) {
        int err = pthread_create(&p->threads[p->n_started], NULL, pool_thread, p);
        if (err != 0) {
            warnx_msg("pool thread %ld: pthread_create: %s", p->n_started, strerror(err));
            return -1;
        }
    }
    return 0;
}

void pool_submit(struct pool *p, struct job *job)
{
    pthread_mutex_lock(&p->lock);
    STAILQ_INSERT_TAIL(&p->todo, job, next);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

struct job *pool_take_done(struct pool *p)
{
    pthread_mutex_lock(&p->lock);
    struct job *job = STAILQ_FIRST(&p->done);
    if (job)
        STAILQ_REMOVE_HEAD(&p->done, next);
    pthread_mutex_unlock(&p->lock);
    return job;
}

long pool_stop(struct pool *p)
{
    if (!p->threads)
        return 0;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    long joined = 0;
    for (; joined < p->n_started; joined++)
        pthread_join(p->threads[joined], NULL);
    p->n_started = 0;
    return joined;
}

static void free_jobs(struct job_list *jobs)
{
    struct job *job;
    while ((job = STAILQ_FIRST(jobs)) != NULL) {
        STAILQ_REMOVE_HEAD(jobs, next);
        free(job);
    }
}

void pool_free(struct pool *p)
{
    if (!p->initialized)
        return; /* --inline: there never was a pool */
    free_jobs(&p->todo);
    free_jobs(&p->done);
    free(p->threads);
    if (p->done_event)
        event_free(p->done_event);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
}
