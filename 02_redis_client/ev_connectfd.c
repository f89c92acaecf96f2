/*
 * 02_redis_client/ev_connectfd.c — the notes' second program, ev_connectfd.c,
 * with only its bugs fixed, so its author can watch it run before reading
 * chapter 2's full redis_client.c. Each fix carries a comment starting with
 * "fix:" that names the hazard; docs/errata.md explains them,
 * docs/notes/ev_connectfd.orig.c is the original, and `make errata-diff` prints
 * the difference as diff -u.
 *
 * Run it:  make redis, then build/02_redis_client/ev_connectfd [PORT]   (default 6379)
 * It connects, sends PING, prints "recv redis message +PONG" and exits 0 —
 * the reply line as Redis sent it, type byte "+" included.
 */
/* The notes' own layout is kept, so that the diff shows only the fixes: */
/* clang-format off */
#include <event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/bufferevent.h>
#include <event2/buffer.h>
static int exit_code; /* fix: a failure must show in the exit status, not only on the screen */
void data_cb(struct bufferevent *bev,void * ctx){
    struct evbuffer *evbuf = bufferevent_get_input(bev);
    char * msg;
    /* fix: one read may bring several lines (loop), or half of one (NULL, printed as "(null)") */
    while((msg = evbuffer_readln(evbuf,NULL,EVBUFFER_EOL_CRLF_STRICT)) != NULL){
        printf("recv redis message %s\n",msg);
        free(msg); /* fix: evbuffer_readln returns malloc'ed memory: one leak per reply */
        event_base_loopexit(ctx,NULL); /* fix: the reply came; nothing ended the loop, so the program never ended */
    }
}
void event_cb(struct bufferevent * bev,short what,void * ctx){
    if(what & BEV_EVENT_CONNECTED){
        printf("connect redis success\n"); 
        //向redis发送一个PING
        bufferevent_write(bev,"*1\r\n$4\r\nPING\r\n",14); 
        //注册链接的读事件
        bufferevent_enable(bev,EV_READ); /* fix: was "bufferevent_enabal": implicit declaration, then undefined reference */
        //redis回复数据会在data_cb里面         
    }else if(what & BEV_EVENT_EOF){ /* fix: the else reported a later EOF (Redis closed) as a connection error */
        fprintf(stderr,"ev_connectfd: redis closed the connection\n");
        exit_code = 1;
        event_base_loopexit(ctx,NULL);
    }else{
        /* fix: say why, on stderr, with a newline (without one, a buffered stdout may never show it), and end the loop */
        fprintf(stderr,"ev_connectfd: connection error: %s\n",evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        exit_code = 1;
        event_base_loopexit(ctx,NULL);
    }
}
int main(int argc,char **argv){
    int port = argc > 1 ? (int)strtol(argv[1],NULL,10) : 6379; /* workbook: a port argument, for a Redis on another port */
    struct event_base *base = event_base_new();
    if(!base){ fprintf(stderr,"ev_connectfd: event_base_new failed\n"); return 1; } /* fix: unchecked, NULL crashes the next call */
    //作为客户端地址
    struct sockaddr_in sin; /* fix: was "sockad  dr_in" ("expected '=', ',', ';', 'asm' or '__attribute__' before 'sin'") */
    memset(&sin,0,sizeof(sin)); /* fix: sin_zero held stack garbage */
    sin.sin_addr.s_addr = inet_addr("127.0.0.1");
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    
    struct bufferevent *redis = bufferevent_socket_new(base,-1,BEV_OPT_CLOSE_ON_FREE);
    if(!redis){ fprintf(stderr,"ev_connectfd: bufferevent_socket_new failed\n"); return 1; } /* fix: unchecked creation */
    bufferevent_setcb(redis,data_cb,NULL,event_cb,base); /* fix: before connecting: a connect that fails at once reports to the callbacks set by then */
    if(bufferevent_socket_connect(redis,(struct sockaddr*)&sin,sizeof(sin)) < 0){ /* fix: -1 = could not even start; ignored, the loop waited forever */
        fprintf(stderr,"ev_connectfd: cannot connect: %s\n",evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        bufferevent_free(redis);
        event_base_free(base);
        return 1;
    }
    
    event_base_loop(base,EVLOOP_NO_EXIT_ON_EMPTY);
    
    bufferevent_free(redis); /* fix: the bufferevent (and its socket) was never freed */
    event_base_free(base);
    
    return exit_code;
}
