/*
 * 01_listener/ev_listenfd.c — the notes' first program, ev_listenfd.c, with only
 * its bugs fixed, so its author can watch it run before reading chapter 1's
 * full listener.c. Each fix carries a comment starting with "fix:" that names
 * the hazard; docs/errata.md explains them, docs/notes/ev_listenfd.orig.c is the
 * original, and `make errata-diff` prints the difference as diff -u.
 *
 * Run it:  build/01_listener/ev_listenfd [PORT]      (default 8080)
 * Poke it: telnet 127.0.0.1 8080 — the server prints "recv a connection" and
 *          closes the connection; Ctrl-C stops it.
 */
/* The notes' own layout is kept, so that the diff shows only the fixes: */
/* clang-format off */
#include <event.h>
#include <event2/listener.h> /* fix: <event.h> lacks evconnlistener_* and LEV_OPT_* (implicit declaration, undeclared) */
#include <netinet/in.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
    /**
    1 socket
    2 bind
    3 listen
    4 注册 读事件  提供回调函数
    **/
/* fix: renamed: "evconnlistener_cb" is libevent's own typedef ("redeclared as different kind of symbol") */
void accept_cb(struct evconnlistener *lis,evutil_socket_t fd,struct sockaddr *sock,int socklen,void *ctx){
    printf("recv a connection\n");
    evutil_closesocket(fd); /* fix: the accepted fd is ours: unclosed, each client hangs and the fds run out */
}

/* fix: nothing ever ended the loop, so the cleanup after it never ran; Ctrl-C now ends it */
void stop_cb(evutil_socket_t sig,short what,void *base){
    event_base_loopbreak(base);
}

int main(int argc,char **argv){
    int port = argc > 1 ? (int)strtol(argv[1],NULL,10) : 8080; /* workbook: a port argument, so tests can pick a free one */
    struct event_base *base = event_base_new();
    if(!base){ fprintf(stderr,"ev_listenfd: event_base_new failed\n"); return 1; } /* fix: unchecked, NULL crashes the next call */
    struct sockaddr_in sin = {0}; /* fix: was "sockadr_in", an unknown struct ("storage size of 'sin' isn't known") */
    //作为listenfd的地址
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* fix: left 0 it is INADDR_ANY: anyone on the network may connect */
    sin.sin_port = htons(port);
    
    struct evconnlistener *listener = evconnlistener_new_bind(base,accept_cb,base,LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,256,(struct sockaddr*)&sin,sizeof(struct sockaddr_in));
    if(!listener){ /* fix: NULL when the port is taken; unchecked, the loop below waits for nothing, forever */
        fprintf(stderr,"ev_listenfd: cannot listen on 127.0.0.1:%d: %s\n",port,strerror(errno));
        event_base_free(base);
        return 1;
    }
    struct event *sigint = evsignal_new(base,SIGINT,stop_cb,base);
    if(!sigint || event_add(sigint,NULL) < 0){ fprintf(stderr,"ev_listenfd: cannot watch SIGINT\n"); return 1; }
    
    event_base_loop(base,EVLOOP_NO_EXIT_ON_EMPTY);
    
    event_free(sigint);
    evconnlistener_free(listener); /* fix: the listener (and its socket) was never freed */
    event_base_free(base);
    
    return 0;
}
