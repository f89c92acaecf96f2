#include <event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdio.h>
    /**
    1 socket
    2 bind
    3 listen
    4 注册 读事件  提供回调函数
    **/
void evconnlistener_cb(struct evconnlistener *lis,evutil_socket_t fd,struct sockaddr *sock,int socklen,void *ctx){
    printf("recv a connection\n");
}

int main(){
    struct event_base *base = event_base_new();
    struct sockadr_in sin = {0};
    //作为listenfd的地址
    sin.sin_family = AF_INET;
    sin.sin_port = htons(8080);
    
    struct evconnlistener *listener = evconnlistener_new_bind(base,evconnlistener_cb,base,LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,256,(struct sockaddr*)&sin,sizeof(struct sockaddr_in));
    
    event_base_loop(base,EVLOOP_NO_EXIT_ON_EMPTY);
    
    event_base_free(base);
    
    return 0;
}
