# 11_threads/chapter.mk — chapter 11's entry in the Makefile: one loop per
# thread (threaded_echo, reuseport_echo) and a worker pool beside the loop
# (offload), with ThreadSanitizer runs of the chapter's tests.

# evthread_use_pthreads lives in libevent_pthreads; -pthread for pthreads itself
11_threads_PKGS := libevent_pthreads
11_threads_LDLIBS := -pthread

## chapter11            build chapter 11 and run threaded_echo --threads 4 on 127.0.0.1:8011 (PORT=N for another)
chapter11: PORT ?= 8011
chapter11: $(O)11_threads/threaded_echo
	@echo "try: nc 127.0.0.1 $(PORT); 00_why_event_loop/loadgen --port $(PORT) --connections 1000; kill -USR1 PID for the per-thread counts (Ctrl-C here stops it)"
	@scripts/run-demo.sh $(O)11_threads/threaded_echo --threads 4 --port $(PORT)
