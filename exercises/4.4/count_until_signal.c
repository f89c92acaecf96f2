/*
 * exercises/4.4/count_until_signal.c — exercise 4.4: a program that counts as
 * fast as it can until SIGINT or SIGTERM, then says how far it got and exits 0.
 *
 * It has the classic bug of a flag shared with a signal handler: it usually
 * never stops. Find it and fix it the way C guarantees will work (the check
 * compiles this file with -O2, sends SIGINT and expects an exit within 5 s).
 * The chapter's servers never need such a flag: the loop tells them.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int stop_signal; /* set by the handler: which signal asked us to stop */

/* Runs in signal context: only note which signal came. */
static void on_stop(int signo)
{
    stop_signal = signo;
}

static int install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
        perror("count_until_signal: sigaction");
        return -1;
    }
    return 0;
}

int main(void)
{
    if (install_handlers() != 0)
        return 1;
    printf("counting; stop me with: kill -INT %d\n", (int)getpid());
    fflush(stdout);
    unsigned long count = 0;
    while (!stop_signal)
        count++;
    printf("stopped by %s after %lu\n", stop_signal == SIGINT ? "SIGINT" : "SIGTERM", count);
    return 0;
}
