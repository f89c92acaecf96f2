#include <event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <event2/bufferevent.h>
#include <event2/buffer.h>
void data_cb(struct bufferevent *bev,void * ctx){
    struct evbuffer *evbuf = bufferevent_get_input(bev);
    char * msg = evbuffer_readln(evbuf,NULL,EVBUFFER_EOL_CRLF_STRICT);
    printf("recv redis message %s\n",msg);
}
void event_cb(struct bufferevent * bev,short what,void * ctx){
    if(what & BEV_EVENT_CONNECTED){
        printf("connect redis success\n"); 
        //向redis发送一个PING
        bufferevent_write(bev,"*1\r\n$4\r\nPING\r\n",14); 
        //注册链接的读事件
        bufferevent_enabal(bev,EV_READ);
        //redis回复数据会在data_cb里面         
    }else{
        printf("connection error");    
    }
}
int main(){
    struct event_base *base = event_base_new();
    //作为客户端地址
    struct sockad  dr_in sin;
    sin.sin_addr.s_addr = inet_addr("127.0.0.1");
    sin.sin_family = AF_INET;
    sin.sin_port = htons(6379);
    
    struct bufferevent *redis = bufferevent_socket_new(base,-1,BEV_OPT_CLOSE_ON_FREE);
    bufferevent_socket_connect(redis,(struct sockaddr*)&sin,sizeof(sin));
    bufferevent_setcb(redis,data_cb,NULL,event_cb,base);
    
    event_base_loop(base,EVLOOP_NO_EXIT_ON_EMPTY);
    
    event_base_free(base);
    
    return 0;
}
