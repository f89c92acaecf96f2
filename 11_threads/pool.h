/*
 * 11_threads/pool.h — offload's worker pool: threads that do slow, blocking
 * work and hand each result back to the loop thread with event_active.
 *
 *   loop thread                         pool thread
 *   pool_submit(job) --todo + cond-->   job_run(job)  (blocks: fine here)
 *   on_done: pool_take_done   <--done + event_active(done_event)--
 *
 * event_active on the loop's base from a pool thread is a cross-thread call
 * into a base: it is only safe because main() called evthread_use_pthreads()
 * before creating that base (pool.c says what that buys).
 */
#ifndef POOL_H
#define POOL_H

#include <pthread.h>
#include <sys/queue.h>

#include <event2/event.h>

enum job_kind { JOB_HASH, JOB_SLEEP };

#define MAX_HASH_ROUNDS 200000000L /* about a second on this machine */
#define MAX_SLEEP_MS 5000L
#define JOB_REPLY_LEN 80

struct job {
    void *owner; /* the connection that asked, for the loop thread */
    enum job_kind kind;
    long arg;                  /* rounds, or milliseconds */
    char reply[JOB_REPLY_LEN]; /* written by job_run */
    STAILQ_ENTRY(job) next;
};
STAILQ_HEAD(job_list, job);

struct pool {
    pthread_mutex_t lock; /* guards todo, done and stopping */
    pthread_cond_t wake;  /* todo got a job, or stopping was set */
    struct job_list todo; /* loop thread -> pool */
    struct job_list done; /* pool -> loop thread */
    int stopping;
    int initialized; /* pool_start ran: the lock and queues exist */
    pthread_t *threads;
    long n_started;
    struct event *done_event; /* the loop thread's; activated from the pool */
};

/* The slow work itself, in whichever thread calls it (the pool's, or the
 * loop's with --inline): fills job->reply. */
void job_run(struct job *job);

/* N threads waiting for jobs; ON_DONE(ARG) runs on BASE's thread whenever
 * results are waiting. 0, or -1 after a message (pool_free cleans up). */
int pool_start(struct pool *p, struct event_base *base, long n, event_callback_fn on_done,
               void *arg);
/* Loop thread: queue a job for the pool. */
void pool_submit(struct pool *p, struct job *job);
/* Loop thread, in ON_DONE: the next finished job, or NULL. */
struct job *pool_take_done(struct pool *p);
/* Tell the threads to stop (a job being run is finished first) and join
 * them all; returns how many were joined. */
long pool_stop(struct pool *p);
/* After pool_stop: free the jobs never run or never collected, the event. */
void pool_free(struct pool *p);

#endif
